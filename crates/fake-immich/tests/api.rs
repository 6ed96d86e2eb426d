//! The server over real HTTP: discovery, authentication, error shapes, uploads and
//! duplicate detection, bulk checks, delete/trash/restore, search, and the request log held
//! to Immich's OpenAPI document.

mod common;

use common::{Env, json, sha1_hex, upload_form};
use fake_immich::openapi::Spec;
use fake_immich::{FakeImmich, Profile, REDACTED, RecordedBody};
use serde_json::{Value, json};

#[tokio::test]
async fn discovery_reports_each_profile() {
    for (profile, version) in [(Profile::V2, (2, 7, 5)), (Profile::V3, (3, 1, 0))] {
        let env = Env::start(profile).await;
        let base = env.server.url();
        let well_known = json(
            env.client
                .get(format!("{base}/.well-known/immich"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(well_known, json!({"api": {"endpoint": "/api"}}));
        assert_eq!(
            json(env.get("/server/ping").await).await,
            json!({"res": "pong"})
        );

        let v = json(env.get("/server/version").await).await;
        assert_eq!(
            (
                v["major"].as_u64(),
                v["minor"].as_u64(),
                v["patch"].as_u64()
            ),
            (Some(version.0), Some(version.1), Some(version.2))
        );
        match profile {
            Profile::V2 => assert!(v.get("prerelease").is_none()),
            Profile::V3 => assert_eq!(v.get("prerelease"), Some(&Value::Null)),
        }

        let media = json(env.get("/server/media-types").await).await;
        let video: Vec<&str> = media["video"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let image: Vec<&str> = media["image"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(image.contains(&".heic") && image.contains(&".jpg") && image.contains(&".dng"));
        assert_eq!(video.contains(&".ts"), profile == Profile::V3);
        assert_eq!(image.contains(&".mpo"), profile == Profile::V3);
        assert_eq!(media["sidecar"], json!([".xmp"]));

        assert_eq!(
            json(env.get("/server/features").await).await["trash"],
            json!(true)
        );
        assert_eq!(
            json(env.get("/server/config").await).await["trashDays"],
            json!(30)
        );
        assert_eq!(json(env.get("/albums").await).await, json!([]));
        assert_eq!(
            json(env.get("/assets/statistics").await).await,
            json!({"images": 0, "videos": 0, "total": 0})
        );

        let me = json(env.get("/users/me").await).await;
        assert_eq!(me["id"], json!(env.user));
        assert_eq!(me["email"], json!("alice@example.com"));
        assert_eq!(me["quotaSizeInBytes"], Value::Null);
    }
}

#[tokio::test]
async fn error_bodies_have_the_profile_shape() {
    let v2 = Env::start(Profile::V2).await;
    let response = v2.client.get(v2.url("/users/me")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body = json(response).await;
    assert_eq!(body["message"], json!("Authentication required"));
    assert_eq!(body["error"], json!("Unauthorized"));
    assert_eq!(body["statusCode"], json!(401));
    assert!(body["correlationId"].is_string());

    let v3 = Env::start(Profile::V3).await;
    let response = v3.client.get(v3.url("/users/me")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("x-correlation-id"));
    assert_eq!(
        json(response).await,
        json!({"message": "Authentication required"})
    );

    // Validation failures.
    let bad = json!({"assets": [{"id": "", "checksum": 5}]});
    let response = v2.post_json("/assets/bulk-upload-check", bad.clone()).await;
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    let messages = body["message"]
        .as_array()
        .expect("v2 validation message is an array");
    assert!(
        messages.contains(&json!("assets.0.id should not be empty")),
        "{body}"
    );
    assert!(
        messages.contains(&json!("assets.0.checksum must be a string")),
        "{body}"
    );

    let response = v3.post_json("/assets/bulk-upload-check", bad).await;
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    assert_eq!(body["message"], json!("Validation failed"));
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "v3 accepts an empty id: {body}");
    assert_eq!(errors[0]["path"], json!(["assets", 0, "checksum"]));

    // Unknown routes.
    let response = v3.get("/no-such-route").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        json(response).await["message"],
        json!("Cannot GET /api/no-such-route")
    );
}

#[tokio::test]
async fn keys_permissions_and_revocation() {
    let env = Env::start(Profile::V3).await;
    let url = env.url("/users/me");

    let bearer = env
        .client
        .get(&url)
        .bearer_auth(&env.key)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 401);
    assert_eq!(json(bearer).await["message"], json!("Invalid user token"));

    let unknown = env
        .client
        .get(&url)
        .header("x-api-key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    assert_eq!(json(unknown).await["message"], json!("Invalid API key"));

    let limited = env
        .server
        .add_api_key(&env.user, &["asset.read", "user.read"]);
    let me = env
        .client
        .get(env.url("/api-keys/me"))
        .header("x-api-key", &limited)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me = json(me).await;
    assert_eq!(me["permissions"], json!(["asset.read", "user.read"]));
    for field in ["id", "name", "createdAt", "updatedAt"] {
        assert!(me[field].is_string(), "{field}: {me}");
    }

    let check = env
        .client
        .post(env.url("/assets/bulk-upload-check"))
        .header("x-api-key", &limited)
        .json(&json!({"assets": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 403);
    assert_eq!(
        json(check).await["message"],
        json!("Missing required permission: asset.upload")
    );

    let delete = env
        .client
        .post(env.url("/trash/restore/assets"))
        .header("x-api-key", &limited)
        .json(&json!({"ids": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(delete).await["message"],
        json!("Missing required permission: asset.delete")
    );

    let ok = env
        .client
        .get(&url)
        .header("x-api-key", &limited)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    env.server.revoke_api_key(&limited);
    let revoked = env
        .client
        .get(&url)
        .header("x-api-key", &limited)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
    assert_eq!(json(revoked).await["message"], json!("Invalid API key"));
}

#[tokio::test]
async fn uploads_are_stored_and_deduplicated_by_checksum() {
    for profile in [Profile::V2, Profile::V3] {
        let env = Env::start(profile).await;
        let content = b"first photo bytes";
        let created = env.upload("IMG_0001.JPG", content, false).await.unwrap();
        assert_eq!(created.status(), 201);
        let created = json(created).await;
        assert_eq!(created["status"], json!("created"));
        let id = created["id"].as_str().unwrap().to_string();

        let assets = env.server.assets(&env.user);
        assert_eq!(assets.len(), 1);
        let asset = &assets[0];
        assert_eq!(asset.id, id);
        assert_eq!(asset.checksum_hex, sha1_hex(content));
        assert_eq!(asset.original_file_name, "IMG_0001.JPG");
        assert_eq!(asset.size, content.len() as u64);
        assert_eq!(asset.file_created_at, "2024-05-01T08:00:00.000Z");
        assert_eq!(asset.file_modified_at, "2024-05-01T09:00:00.000Z");
        assert_eq!(std::fs::read(&asset.stored_path).unwrap(), content);
        match profile {
            Profile::V2 => assert_eq!(asset.device_id.as_deref(), Some("test-device")),
            Profile::V3 => assert_eq!(asset.device_id, None),
        }

        // Header: answered before the body is read.
        let early = env.upload("copy.jpg", content, true).await.unwrap();
        assert_eq!(early.status(), 200);
        assert_eq!(early.headers().get("connection").unwrap(), "close");
        assert_eq!(json(early).await, json!({"id": id, "status": "duplicate"}));

        // No header: found after hashing.
        let late = env.upload("copy.jpg", content, false).await.unwrap();
        assert_eq!(late.status(), 200);
        assert_eq!(json(late).await, json!({"id": id, "status": "duplicate"}));

        // Trashed assets still count, and stay in the trash.
        env.server.trash_asset(&id);
        for with_header in [true, false] {
            let again = env.upload("again.jpg", content, with_header).await.unwrap();
            assert_eq!(again.status(), 200);
            assert_eq!(json(again).await, json!({"id": id, "status": "duplicate"}));
        }
        assert!(env.server.assets(&env.user)[0].is_trashed);
        assert_eq!(env.server.created_uploads(), 1);
        assert_eq!(env.server.assets(&env.user).len(), 1);

        // Another user's copy is not a duplicate.
        let bob = env.server.add_user("bob@example.com", "Bob");
        let bob_key = env.server.add_api_key(&bob, &["asset.upload"]);
        let response = env
            .client
            .post(env.url("/assets"))
            .header("x-api-key", &bob_key)
            .header("x-immich-checksum", sha1_hex(content))
            .multipart(upload_form("bob.jpg", content, &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(env.server.created_uploads(), 2);

        // Only the two kept files remain on disk.
        let incoming = env.server.storage_dir().join(".incoming");
        let leftovers = std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0);
        assert_eq!(leftovers, 0);
    }
}

#[tokio::test]
async fn upload_rules_per_profile() {
    let v2 = Env::start(Profile::V2).await;
    let v3 = Env::start(Profile::V3).await;

    // A date without zone and a v2-style duration: v2 takes them, v3 does not.
    let loose = [
        ("fileCreatedAt", "2024-05-01T10:00:00"),
        ("duration", "00:00:05.000"),
    ];
    let response = v2
        .upload_form(upload_form("a.mp4", b"video", &loose), b"", false)
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        v2.server.assets(&v2.user)[0].file_created_at,
        "2024-05-01T10:00:00.000Z"
    );

    let response = v3
        .upload_form(upload_form("a.mp4", b"video", &loose), b"", false)
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    assert_eq!(body["message"], json!("Validation failed"));
    let paths: Vec<&Value> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["path"])
        .collect();
    assert!(paths.contains(&&json!(["fileCreatedAt"])), "{body}");
    assert!(paths.contains(&&json!(["duration"])), "{body}");
    assert!(v3.server.assets(&v3.user).is_empty());

    for date in [
        "2024-05-01",
        "2024-05-01 10:00:00Z",
        "2024-05-01T10:00:00z",
        "2024-05-01T10:00:00+0200",
        "2023-02-29T00:00:00Z",
    ] {
        let form = upload_form("a.jpg", b"x", &[("fileModifiedAt", date)]);
        let response = v3.upload_form(form, b"", false).await.unwrap();
        assert_eq!(response.status(), 400, "{date}");
    }
    let form = upload_form("a.jpg", b"x", &[("isFavorite", "1")]);
    assert_eq!(
        v3.upload_form(form, b"", false).await.unwrap().status(),
        400
    );
    let form = upload_form(
        "ms.mp4",
        b"ms",
        &[
            ("duration", "5000"),
            ("isFavorite", "true"),
            ("fileCreatedAt", "2024-05-01T10:00+02:00"),
        ],
    );
    assert_eq!(
        v3.upload_form(form, b"", false).await.unwrap().status(),
        201
    );

    // v2 requires the device fields; v3 ignores them.
    let form = upload_form("b.jpg", b"b", &[("deviceAssetId", "")]);
    let response = v2.upload_form(form, b"", false).await.unwrap();
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    assert!(
        body["message"]
            .as_array()
            .unwrap()
            .contains(&json!("deviceAssetId should not be empty")),
        "{body}"
    );
    let form = upload_form("b.jpg", b"b", &[("deviceAssetId", ""), ("deviceId", "")]);
    assert_eq!(
        v3.upload_form(form, b"", false).await.unwrap().status(),
        201
    );

    // Extension check: `filename` if sent before the file, else the part's name.
    let response = v3.upload("notes.txt", b"text", false).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        json(response).await["message"],
        json!("Unsupported file type notes.txt")
    );
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T08:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T08:00:00.000Z")
        .part(
            "assetData",
            reqwest::multipart::Part::bytes(b"late".to_vec()).file_name("late.jpg"),
        )
        .text("filename", "late.txt");
    let response = v3.upload_form(form, b"", false).await.unwrap();
    assert_eq!(response.status(), 201);
    let id = json(response).await["id"].as_str().unwrap().to_string();
    let names: Vec<String> = v3
        .server
        .assets(&v3.user)
        .into_iter()
        .filter(|a| a.id == id)
        .map(|a| a.original_file_name)
        .collect();
    assert_eq!(names, ["late.txt"]);

    // 0-byte files: 400 on v3.1, accepted on v2.
    let response = v3.upload("empty.jpg", b"", false).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(json(response).await["message"], json!("File is empty"));
    assert_eq!(
        v2.upload("empty.jpg", b"", false).await.unwrap().status(),
        201
    );

    // A missing file part.
    let form = reqwest::multipart::Form::new().text("fileCreatedAt", "2024-05-01T08:00:00.000Z");
    let response = v3.upload_form(form, b"", false).await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn quota_is_checked_after_the_body() {
    let env = Env::start(Profile::V3).await;
    env.server.set_quota(&env.user, Some(10));
    assert_eq!(
        env.upload("a.jpg", b"12345", false).await.unwrap().status(),
        201
    );
    let response = env.upload("b.jpg", b"123456", false).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        json(response).await["message"],
        json!("Quota has been exceeded!")
    );
    assert_eq!(env.server.assets(&env.user).len(), 1);
    let me = json(env.get("/users/me").await).await;
    assert_eq!(me["quotaSizeInBytes"], json!(10));
    assert_eq!(me["quotaUsageInBytes"], json!(5));
    let files = std::fs::read_dir(env.server.storage_dir().join(&env.user))
        .unwrap()
        .count();
    assert_eq!(files, 1);
}

#[tokio::test]
async fn bulk_upload_check_answers_in_order() {
    for profile in [Profile::V2, Profile::V3] {
        let env = Env::start(profile).await;
        let live = env.server.insert_asset(&env.user, "live.jpg", b"live");
        let trashed = env
            .server
            .insert_asset(&env.user, "trashed.jpg", b"trashed");
        env.server.trash_asset(&trashed);
        let other = env.server.add_user("bob@example.com", "Bob");
        env.server.insert_asset(&other, "bob.jpg", b"bob");

        let sum = |c: &[u8]| sha1_hex(c);
        let b64 = {
            use base64::Engine as _;
            use sha1::Digest as _;
            base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(b"live"))
        };
        let body = json!({"assets": [
            {"id": "new", "checksum": sum(b"new")},
            {"id": "live", "checksum": sum(b"live")},
            {"id": "live-b64", "checksum": b64},
            {"id": "trashed", "checksum": sum(b"trashed")},
            {"id": "bob", "checksum": sum(b"bob")},
        ]});
        let response = env.post_json("/assets/bulk-upload-check", body).await;
        assert_eq!(response.status(), 200);
        let results = json(response).await["results"].clone();
        assert_eq!(
            results,
            json!([
                {"id": "new", "action": "accept"},
                {"id": "live", "action": "reject", "reason": "duplicate", "assetId": live, "isTrashed": false},
                {"id": "live-b64", "action": "reject", "reason": "duplicate", "assetId": live, "isTrashed": false},
                {"id": "trashed", "action": "reject", "reason": "duplicate", "assetId": trashed, "isTrashed": true},
                {"id": "bob", "action": "accept"},
            ])
        );

        let empty_id = json!({"assets": [{"id": "", "checksum": sum(b"x")}]});
        let status = env
            .post_json("/assets/bulk-upload-check", empty_id)
            .await
            .status();
        assert_eq!(status, if profile == Profile::V2 { 400 } else { 200 });
    }
}

#[tokio::test]
async fn delete_is_all_or_nothing_and_purge_removes() {
    let env = Env::start(Profile::V3).await;
    let a = env.server.insert_asset(&env.user, "a.jpg", b"a");
    let b = env.server.insert_asset(&env.user, "b.jpg", b"b");
    let bob = env.server.add_user("bob@example.com", "Bob");
    let foreign = env.server.insert_asset(&bob, "c.jpg", b"c");
    let missing = uuid::Uuid::new_v4().to_string();

    for ids in [json!([a, foreign]), json!([a, missing])] {
        let response = env.delete_json("/assets", json!({ "ids": ids })).await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            json(response).await["message"],
            json!("Not found or no asset.delete access")
        );
    }
    assert!(env.server.assets(&env.user).iter().all(|x| !x.is_trashed));

    let response = env.delete_json("/assets", json!({ "ids": [a] })).await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.bytes().await.unwrap().len(), 0);
    let asset = json(env.get(&format!("/assets/{a}")).await).await;
    assert_eq!(asset["isTrashed"], json!(true));
    assert_eq!(asset["checksum"].as_str().map(str::len), Some(28));
    assert_eq!(asset["duration"], Value::Null);
    assert!(asset.get("deviceAssetId").is_none());

    // Deleting a trashed asset again is fine; restoring counts what was trashed.
    assert_eq!(
        env.delete_json("/assets", json!({ "ids": [a] }))
            .await
            .status(),
        204
    );
    let response = env
        .post_json("/trash/restore/assets", json!({ "ids": [a, b] }))
        .await;
    assert_eq!(json(response).await, json!({"count": 1}));
    assert_eq!(
        json(env.get(&format!("/assets/{a}")).await).await["isTrashed"],
        json!(false)
    );

    // Forced delete purges: the row is gone and reads answer 400.
    assert_eq!(
        env.delete_json("/assets", json!({ "ids": [a], "force": true }))
            .await
            .status(),
        204
    );
    let response = env.get(&format!("/assets/{a}")).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        json(response).await["message"],
        json!("Not found or no asset.read access")
    );
    assert_eq!(env.server.assets(&env.user).len(), 1);

    // purge_asset does the same from the outside; foreign assets read as missing.
    let stored = env.server.assets(&env.user)[0].stored_path.clone();
    env.server.purge_asset(&b);
    assert_eq!(env.get(&format!("/assets/{b}")).await.status(), 400);
    assert!(!stored.exists());
    assert_eq!(env.get(&format!("/assets/{foreign}")).await.status(), 400);

    // v3 validates ids as UUID v4.
    let response = env.get("/assets/not-a-uuid").await;
    assert_eq!(response.status(), 400);
    assert_eq!(json(response).await["message"], json!("Validation failed"));
    let response = env
        .delete_json(
            "/assets",
            json!({ "ids": ["00000000-0000-1000-8000-000000000000"] }),
        )
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn v2_asset_responses_carry_device_fields() {
    let env = Env::start(Profile::V2).await;
    let response = env.upload("a.jpg", b"a", false).await.unwrap();
    let id = json(response).await["id"].as_str().unwrap().to_string();
    let asset = json(env.get(&format!("/assets/{id}")).await).await;
    assert_eq!(asset["deviceAssetId"], json!("a.jpg-1"));
    assert_eq!(asset["deviceId"], json!("test-device"));
    assert!(asset["duration"].is_string());
    assert_eq!(asset["type"], json!("IMAGE"));
    assert_eq!(asset["originalFileName"], json!("a.jpg"));
    let response = env.get("/assets/nope").await;
    assert_eq!(
        json(response).await["message"],
        json!(["id must be a UUID"])
    );
}

#[tokio::test]
async fn search_metadata_filters_and_pages() {
    let env = Env::start(Profile::V3).await;
    let ids: Vec<String> = (0..5)
        .map(|i| {
            env.server.insert_asset(
                &env.user,
                &format!("p{i}.jpg"),
                format!("photo {i}").as_bytes(),
            )
        })
        .collect();
    env.server.trash_asset(&ids[0]);
    env.server.trash_asset(&ids[1]);

    let all = json(env.post_json("/search/metadata", json!({})).await).await;
    assert_eq!(all["assets"]["count"], json!(3));
    assert_eq!(all["assets"]["nextPage"], Value::Null);
    assert_eq!(
        all["albums"],
        json!({"items": [], "count": 0, "total": 0, "facets": []})
    );

    let trashed = json(
        env.post_json(
            "/search/metadata",
            json!({"trashedAfter": "2000-01-01T00:00:00.000Z"}),
        )
        .await,
    )
    .await;
    let mut found: Vec<&str> = trashed["assets"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    found.sort();
    let mut expected = vec![ids[0].as_str(), ids[1].as_str()];
    expected.sort();
    assert_eq!(found, expected);

    let page1 = json(
        env.post_json("/search/metadata", json!({"withDeleted": true, "size": 2}))
            .await,
    )
    .await;
    assert_eq!(page1["assets"]["count"], json!(2));
    assert_eq!(page1["assets"]["nextPage"], json!("2"));
    let page3 = json(
        env.post_json(
            "/search/metadata",
            json!({"withDeleted": true, "size": 2, "page": 3}),
        )
        .await,
    )
    .await;
    assert_eq!(page3["assets"]["count"], json!(1));
    assert_eq!(page3["assets"]["nextPage"], Value::Null);

    let by_sum = json(
        env.post_json(
            "/search/metadata",
            json!({"checksum": sha1_hex(b"photo 3")}),
        )
        .await,
    )
    .await;
    assert_eq!(by_sum["assets"]["items"][0]["id"], json!(ids[3]));
    let by_id = json(
        env.post_json("/search/metadata", json!({"id": ids[4]}))
            .await,
    )
    .await;
    assert_eq!(by_id["assets"]["count"], json!(1));

    assert_eq!(
        env.post_json("/search/metadata", json!({"size": 1001}))
            .await
            .status(),
        400
    );
    assert_eq!(
        env.post_json(
            "/search/metadata",
            json!({"trashedAfter": "2000-01-01T00:00:00"})
        )
        .await
        .status(),
        400
    );

    // v2 returns only timeline assets unless asked.
    let v2 = Env::start(Profile::V2).await;
    v2.server.insert_asset(&v2.user, "t.jpg", b"t");
    let form = upload_form("h.mov", b"h", &[("visibility", "hidden")]);
    assert_eq!(
        v2.upload_form(form, b"", false).await.unwrap().status(),
        201
    );
    let default = json(v2.post_json("/search/metadata", json!({})).await).await;
    assert_eq!(default["assets"]["count"], json!(1));
    let hidden = json(
        v2.post_json("/search/metadata", json!({"visibility": "hidden"}))
            .await,
    )
    .await;
    assert_eq!(hidden["assets"]["items"][0]["type"], json!("VIDEO"));
    let v3_default = {
        let form = upload_form("h.mov", b"h", &[("visibility", "hidden")]);
        assert_eq!(
            env.upload_form(form, b"", false).await.unwrap().status(),
            201
        );
        json(env.post_json("/search/metadata", json!({})).await).await
    };
    assert_eq!(v3_default["assets"]["count"], json!(4));
}

#[tokio::test]
async fn recorded_requests_match_the_openapi_document() {
    let env = Env::start(Profile::V3).await;
    let spec = Spec::bundled();
    env.get("/server/version").await;
    env.get("/users/me").await;
    env.get("/api-keys/me").await;
    let content = b"recorded";
    env.post_json(
        "/assets/bulk-upload-check",
        json!({"assets": [{"id": "r.jpg", "checksum": sha1_hex(content)}]}),
    )
    .await;
    let id = json(env.upload("r.jpg", content, true).await.unwrap()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.upload("r.jpg", content, true).await.unwrap();
    env.get(&format!("/assets/{id}")).await;
    env.post_json(
        "/search/metadata",
        json!({"trashedAfter": "2024-01-01T00:00:00.000Z", "size": 1000}),
    )
    .await;
    env.delete_json("/assets", json!({"ids": [id]})).await;
    env.post_json("/trash/restore/assets", json!({"ids": [id]}))
        .await;

    let requests = env.server.requests();
    assert_eq!(requests.len(), 10);
    for request in &requests {
        assert_eq!(spec.validate(request), Ok(()), "{request:?}");
        assert_eq!(request.header("x-api-key"), Some(REDACTED));
        assert!(request.status >= 200 && request.status < 300, "{request:?}");
    }

    let upload = &requests[4];
    assert_eq!(
        (upload.method.as_str(), upload.path.as_str(), upload.status),
        ("POST", "/api/assets", 201)
    );
    let fields = upload.multipart().expect("multipart body recorded");
    let file = fields.iter().find(|f| f.name == "assetData").unwrap();
    assert_eq!(
        (file.file_name.as_deref(), file.text.as_deref(), file.len),
        (Some("r.jpg"), None, content.len() as u64)
    );
    let created = fields.iter().find(|f| f.name == "fileCreatedAt").unwrap();
    assert_eq!(created.text.as_deref(), Some("2024-05-01T08:00:00.000Z"));
    assert_eq!(requests[5].status, 200);
    assert_eq!(requests[5].body, RecordedBody::Other(0));
    assert!(matches!(requests[3].body, RecordedBody::Json(_)));
    assert_eq!(requests[0].body, RecordedBody::Empty);

    // What the spec rejects, as a client could send it.
    env.server.clear_requests();
    let form = upload_form(
        "bad.jpg",
        b"bad",
        &[("fileCreatedAt", "2024-05-01T10:00:00")],
    );
    env.upload_form(form, b"", false).await.unwrap();
    let requests = env.server.requests();
    assert_eq!(requests.len(), 1);
    assert!(spec.validate(&requests[0]).is_err());
}

#[tokio::test]
async fn insert_helpers_and_snapshots() {
    let server = FakeImmich::start(Profile::V2).await;
    assert_eq!(server.profile(), Profile::V2);
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let user = server.add_user("a@example.com", "A");
    let id = server.insert_asset(&user, "x.heic", b"x");
    assert_eq!(server.insert_asset(&user, "y.heic", b"x"), id);
    assert_eq!(server.assets(&user).len(), 1);
    server.trash_asset(&id);
    assert!(server.assets(&user)[0].is_trashed);
    server.restore_asset(&id);
    assert!(!server.assets(&user)[0].is_trashed);
    server.purge_asset(&id);
    assert!(server.assets(&user).is_empty());
    assert_eq!(server.created_uploads(), 0);

    server.set_record_requests(false);
    server.set_media_types(&["JPG"], &[".mp4"]);
    let key = server.add_api_key(&user, &["all"]);
    let media: Value = reqwest::Client::new()
        .get(format!("{}/api/server/media-types", server.url()))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(media["image"], json!([".jpg"]));
    assert_eq!(media["video"], json!([".mp4"]));
    assert!(server.requests().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn early_duplicate_answer_with_a_large_body_closes_the_connection() {
    let env = Env::start(Profile::V3).await;
    let content = vec![42u8; 4 * 1024 * 1024];
    assert_eq!(
        env.upload("big.jpg", &content, false)
            .await
            .unwrap()
            .status(),
        201
    );
    // The server answers before reading the body and closes the connection, so the client
    // sees either the answer or a write error, as with the real server.
    match env.upload("big.jpg", &content, true).await {
        Ok(response) => {
            assert_eq!(response.status(), 200);
            assert_eq!(json(response).await["status"], json!("duplicate"));
        }
        Err(err) => assert!(!err.is_status(), "{err}"),
    }
    assert_eq!(env.server.created_uploads(), 1);
    assert_eq!(env.get("/users/me").await.status(), 200);
}

/// §12, checked on a real v3.1.0 server: `trashedAfter` returns the assets trashed after T
/// (each `isTrashed`), with or without `withDeleted`; without it trashed assets stay hidden
/// unless `withDeleted`; `size` above 1000 is refused; answers carry the server's `Date`, which
/// the trash feed uses as its clock.
#[tokio::test]
async fn the_trash_feed_behaves_as_on_a_real_server() {
    for profile in [Profile::V3, Profile::V2] {
        let env = Env::start(profile).await;
        let before = json(env.upload("t.jpg", b"trashed", true).await.unwrap()).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let kept = json(env.upload("k.jpg", b"kept", true).await.unwrap()).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let t = "2020-01-01T00:00:00.000Z";
        env.server.trash_asset(&before);
        for with_deleted in [None, Some(true)] {
            let mut body = json!({"trashedAfter": t, "size": 1000});
            if let Some(w) = with_deleted {
                body["withDeleted"] = json!(w);
            }
            let response = env.post_json("/search/metadata", body).await;
            assert!(response.headers().contains_key("date"), "{profile:?}");
            let found = json(response).await;
            let items = found["assets"]["items"].as_array().unwrap();
            assert_eq!(items.len(), 1, "{profile:?} {with_deleted:?}: {found}");
            assert_eq!(items[0]["id"], json!(before));
            assert_eq!(items[0]["isTrashed"], json!(true));
        }
        let plain = json(env.post_json("/search/metadata", json!({})).await).await;
        let ids: Vec<&str> = plain["assets"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        assert_eq!(ids, [kept.as_str()], "trashed assets are hidden by default");
        let later = json(
            env.post_json(
                "/search/metadata",
                json!({"trashedAfter": "2999-01-01T00:00:00.000Z"}),
            )
            .await,
        )
        .await;
        assert_eq!(later["assets"]["items"], json!([]));
        let too_big = env
            .post_json("/search/metadata", json!({"trashedAfter": t, "size": 1001}))
            .await;
        assert_eq!(too_big.status(), 400);
    }
}

/// `PUT /assets/copy` moves the favourite from the old asset to the new one (albums and stacks:
/// `tests/media.rs`); ids the caller does not own fail with 400, and the key needs
/// `asset.copy`.
#[tokio::test]
async fn copy_moves_the_favourite_to_the_new_version() {
    let env = Env::start(Profile::V3).await;
    let old = json(env.upload("v1.jpg", b"version one", true).await.unwrap()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let new = json(env.upload("v1.jpg", b"version two", true).await.unwrap()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.server.set_favorite(&old, true);
    let copy = |body: Value| {
        env.client
            .put(env.url("/assets/copy"))
            .header("x-api-key", &env.key)
            .json(&body)
            .send()
    };
    let response = copy(json!({"sourceId": old, "targetId": new}))
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let target = json(env.get(&format!("/assets/{new}")).await).await;
    assert_eq!(target["isFavorite"], json!(true));

    let bob = env.server.add_user("bob@example.com", "Bob");
    let bobs = env.server.insert_asset(&bob, "b.jpg", b"bob's");
    let foreign = copy(json!({"sourceId": old, "targetId": bobs}))
        .await
        .unwrap();
    assert_eq!(foreign.status(), 400);
    assert_eq!(
        json(foreign).await["message"],
        json!("Not found or no asset.copy access")
    );

    let limited = env
        .server
        .add_api_key(&env.user, &["asset.read", "asset.upload"]);
    let refused = env
        .client
        .put(env.url("/assets/copy"))
        .header("x-api-key", &limited)
        .json(&json!({"sourceId": old, "targetId": new}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let spec = Spec::bundled();
    for request in env.server.requests() {
        assert_eq!(spec.validate(&request), Ok(()), "{request:?}");
    }
}

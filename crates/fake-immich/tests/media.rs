//! Albums, stacks, metadata edits, live photos and tags over real HTTP, per profile, with
//! the requests held to Immich's OpenAPI document.

mod common;

use common::{Env, json, upload_form};
use fake_immich::openapi::Spec;
use fake_immich::{AlbumSnapshot, Profile};
use serde_json::{Value, json};

fn ids_of(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect()
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_string()
}

/// Every recorded request is one the OpenAPI document allows.
fn assert_requests_match_the_document(env: &Env) {
    let spec = Spec::bundled();
    for request in env.server.requests() {
        assert_eq!(spec.validate(&request), Ok(()), "{request:?}");
    }
}

#[tokio::test]
async fn albums_are_created_filled_emptied_and_deleted() {
    let env = Env::start(Profile::V3).await;
    let a = env.upload_new("a.jpg", b"photo a").await;
    let b = env.upload_new("b.jpg", b"photo b").await;
    let c = env.upload_new("c.jpg", b"photo c").await;
    let bob = env.server.add_user("bob@example.com", "Bob");
    let bobs = env.server.insert_asset(&bob, "bob.jpg", b"bob's photo");
    let unknown = uuid::Uuid::new_v4().to_string();

    // Assets the caller may not add are dropped quietly on creation.
    let created = env
        .post_json(
            "/albums",
            json!({"albumName": "Holiday", "description": "Sea", "assetIds": [a, bobs]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let holiday = json(created).await;
    assert_eq!(holiday["albumName"], json!("Holiday"));
    assert_eq!(holiday["description"], json!("Sea"));
    assert_eq!(holiday["assetCount"], json!(1));
    assert_eq!(holiday["albumThumbnailAssetId"], json!(a));
    assert_eq!(holiday["albumUsers"][0]["role"], json!("owner"));
    assert_eq!(holiday["albumUsers"][0]["user"]["id"], json!(env.user));
    assert!(holiday.get("assets").is_none(), "v3 albums embed no assets");
    let holiday = id_of(&holiday);

    let empty = json(
        env.post_json("/albums", json!({"albumName": "Empty"}))
            .await,
    )
    .await;
    assert_eq!(
        (&empty["assetCount"], &empty["description"]),
        (&json!(0), &json!(""))
    );
    assert_eq!(empty["albumThumbnailAssetId"], Value::Null);
    let empty = id_of(&empty);

    // Adding is not all-or-nothing.
    let added = env
        .put_json(
            &format!("/albums/{holiday}/assets"),
            json!({"ids": [a, b, unknown, bobs, c, c]}),
        )
        .await;
    assert_eq!(added.status(), 200);
    assert_eq!(
        json(added).await,
        json!([
            {"id": a, "success": false, "error": "duplicate"},
            {"id": b, "success": true},
            {"id": unknown, "success": false, "error": "no_permission"},
            {"id": bobs, "success": false, "error": "no_permission"},
            {"id": c, "success": true},
            {"id": c, "success": false, "error": "duplicate"},
        ])
    );
    assert_eq!(
        env.server.albums(&env.user),
        vec![
            AlbumSnapshot {
                id: holiday.clone(),
                name: "Holiday".into(),
                asset_ids: vec![a.clone(), b.clone(), c.clone()],
            },
            AlbumSnapshot {
                id: empty.clone(),
                name: "Empty".into(),
                asset_ids: vec![],
            },
        ]
    );

    // Listing: newest first; v3 filters by exact name, id and asset.
    let all = json(env.get("/albums").await).await;
    assert_eq!(ids_of(&all), [empty.clone(), holiday.clone()]);
    assert_eq!(all[1]["assetCount"], json!(3));
    assert_eq!(
        ids_of(&json(env.get("/albums?name=Holiday").await).await),
        [holiday.as_str()]
    );
    assert_eq!(json(env.get("/albums?name=holiday").await).await, json!([]));
    assert_eq!(
        ids_of(&json(env.get(&format!("/albums?id={empty}")).await).await),
        [empty.as_str()]
    );
    assert_eq!(
        ids_of(&json(env.get(&format!("/albums?assetId={b}")).await).await),
        [holiday.as_str()]
    );
    assert_eq!(
        json(env.get("/albums?isShared=true").await).await,
        json!([])
    );
    assert_eq!(env.get("/albums?id=not-a-uuid").await.status(), 400);

    // The album's contents, as a v3 client lists them.
    let found = json(
        env.post_json("/search/metadata", json!({"albumIds": [holiday]}))
            .await,
    )
    .await;
    let mut in_album = ids_of(&found["assets"]["items"]);
    in_album.sort();
    let mut expected = vec![a.clone(), b.clone(), c.clone()];
    expected.sort();
    assert_eq!(in_album, expected);
    let both = json(
        env.post_json("/search/metadata", json!({"albumIds": [holiday, empty]}))
            .await,
    )
    .await;
    assert_eq!(both["assets"]["count"], json!(0), "in every listed album");

    // Removing: `not_found` for an asset that is not in the album.
    let removed = env
        .delete_json(
            &format!("/albums/{holiday}/assets"),
            json!({"ids": [a, unknown]}),
        )
        .await;
    assert_eq!(removed.status(), 200);
    assert_eq!(
        json(removed).await,
        json!([
            {"id": a, "success": true},
            {"id": unknown, "success": false, "error": "not_found"},
        ])
    );
    let one = json(env.get(&format!("/albums/{holiday}")).await).await;
    assert_eq!(one["assetCount"], json!(2));
    assert_eq!(
        one["albumThumbnailAssetId"],
        json!(b),
        "the thumbnail moves on"
    );

    // A trashed asset stays a member but is not counted; a purged one leaves.
    env.server.trash_asset(&b);
    let one = json(env.get(&format!("/albums/{holiday}")).await).await;
    assert_eq!(one["assetCount"], json!(1));
    assert_eq!(
        env.server.albums(&env.user)[0].asset_ids,
        [b.clone(), c.clone()]
    );
    env.server.purge_asset(&b);
    assert_eq!(env.server.albums(&env.user)[0].asset_ids, [c.as_str()]);

    // Another user's album is out of reach, like one that does not exist.
    let bobs_album = {
        let key = env.server.add_api_key(&bob, &["all"]);
        let response = env
            .client
            .post(env.url("/albums"))
            .header("x-api-key", key)
            .json(&json!({"albumName": "Bob's"}))
            .send()
            .await
            .unwrap();
        id_of(&json(response).await)
    };
    let foreign = env.get(&format!("/albums/{bobs_album}")).await;
    assert_eq!(foreign.status(), 400);
    assert_eq!(
        json(foreign).await,
        json!({"message": "Not found or no album.read access"})
    );
    let foreign_add = env
        .put_json(&format!("/albums/{bobs_album}/assets"), json!({"ids": [c]}))
        .await;
    assert_eq!(
        json(foreign_add).await["message"],
        json!("Not found or no albumAsset.create access")
    );
    assert_eq!(
        env.delete(&format!("/albums/{bobs_album}")).await.status(),
        400
    );
    assert_eq!(env.server.albums(&bob).len(), 1);

    // Deleting an album leaves its assets alone.
    let deleted = env.delete(&format!("/albums/{holiday}")).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        json(env.get(&format!("/albums/{holiday}")).await).await["message"],
        json!("Not found or no album.read access")
    );
    let gone = env
        .put_json(&format!("/albums/{holiday}/assets"), json!({"ids": [c]}))
        .await;
    assert_eq!(gone.status(), 400);
    assert_eq!(json(gone).await["message"], json!("Album not found"));
    assert_eq!(env.server.assets(&env.user).len(), 2);
    assert_eq!(
        ids_of(&json(env.get("/albums").await).await),
        [empty.as_str()]
    );

    // As a user does in the web UI.
    env.server.delete_album(&empty);
    assert!(env.server.albums(&env.user).is_empty());
}

#[tokio::test]
async fn v2_albums_embed_their_assets_and_name_their_owner() {
    let env = Env::start(Profile::V2).await;
    let old = env
        .upload_new_with(
            "old.jpg",
            b"old",
            &[("fileCreatedAt", "2020-01-01T00:00:00.000Z")],
        )
        .await;
    let new = env.upload_new("new.jpg", b"new").await;
    let created = env
        .post_json(
            "/albums",
            json!({"albumName": "Both", "assetIds": [old, new]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created = json(created).await;
    assert_eq!(created["ownerId"], json!(env.user));
    assert_eq!(created["owner"]["email"], json!("alice@example.com"));
    assert_eq!(created["albumUsers"], json!([]));
    let id = id_of(&created);

    let one = json(env.get(&format!("/albums/{id}")).await).await;
    assert_eq!(one["assetCount"], json!(2));
    assert_eq!(
        ids_of(&one["assets"]),
        [new.clone(), old.clone()],
        "newest first"
    );
    assert_eq!(one["assets"][0]["deviceId"], json!("test-device"));
    assert_eq!(one["startDate"], json!("2020-01-01T00:00:00.000Z"));
    let bare = json(env.get(&format!("/albums/{id}?withoutAssets=true")).await).await;
    assert_eq!(
        (&bare["assets"], &bare["assetCount"]),
        (&json!([]), &json!(2))
    );
    let listed = json(env.get("/albums").await).await;
    assert_eq!(listed[0]["assets"], json!([]));
    // v2 has no `name` filter: the parameter is dropped and every album is listed.
    assert_eq!(
        ids_of(&json(env.get("/albums?name=Other").await).await),
        [id.as_str()]
    );
    assert_eq!(
        ids_of(&json(env.get(&format!("/albums?assetId={old}")).await).await),
        [id.as_str()]
    );
    assert_eq!(json(env.get("/albums?shared=true").await).await, json!([]));

    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = env.get(&format!("/albums/{unknown}")).await;
    assert_eq!(missing.status(), 400);
    let body = json(missing).await;
    assert_eq!(body["message"], json!("Not found or no album.read access"));
    assert_eq!(body["statusCode"], json!(400));

    let v3 = Env::start(Profile::V3).await;
    let asset = v3.upload_new("a.jpg", b"a").await;
    let album = id_of(
        &json(
            v3.post_json("/albums", json!({"albumName": "A", "assetIds": [asset]}))
                .await,
        )
        .await,
    );
    let one = json(v3.get(&format!("/albums/{album}")).await).await;
    for absent in ["assets", "owner", "ownerId"] {
        assert!(one.get(absent).is_none(), "{absent} in {one}");
    }
    assert_eq!(one["assetCount"], json!(1));
}

#[tokio::test]
async fn put_albums_assets_adds_to_several_albums() {
    let env = Env::start(Profile::V3).await;
    let a = env.upload_new("a.jpg", b"a").await;
    let b = env.upload_new("b.jpg", b"b").await;
    let first = id_of(&json(env.post_json("/albums", json!({"albumName": "1"})).await).await);
    let second = id_of(
        &json(
            env.post_json("/albums", json!({"albumName": "2", "assetIds": [a]}))
                .await,
        )
        .await,
    );
    let body = json!({"albumIds": [first, second], "assetIds": [a, b]});
    let response = env.put_json("/albums/assets", body.clone()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await, json!({"success": true}));
    let albums = env.server.albums(&env.user);
    assert_eq!(albums[0].asset_ids, [a.clone(), b.clone()]);
    assert_eq!(albums[1].asset_ids, [a.clone(), b.clone()]);
    assert_eq!(
        json(env.put_json("/albums/assets", body).await).await,
        json!({"success": false, "error": "duplicate"})
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        json(
            env.put_json(
                "/albums/assets",
                json!({"albumIds": [unknown], "assetIds": [a]})
            )
            .await
        )
        .await,
        json!({"success": false, "error": "no_permission"})
    );
    assert_requests_match_the_document(&env);
}

#[tokio::test]
async fn stacks_take_a_primary_and_merge_stacked_assets() {
    for profile in [Profile::V3, Profile::V2] {
        let env = Env::start(profile).await;
        let jpg = env.upload_new("x.jpg", b"jpeg").await;
        let raw = env.upload_new("x.dng", b"raw").await;
        let other = env.upload_new("y.jpg", b"other").await;

        let alone = env.post_json("/stacks", json!({"assetIds": [jpg]})).await;
        assert_eq!(alone.status(), 400, "{profile:?}");
        let body = json(alone).await;
        match profile {
            Profile::V3 => {
                assert_eq!(body["message"], json!("Validation failed"));
                assert_eq!(body["errors"][0]["code"], json!("too_small"));
                assert_eq!(body["errors"][0]["path"], json!(["assetIds"]));
            }
            Profile::V2 => assert_eq!(
                body["message"],
                json!(["assetIds must contain at least 2 elements"])
            ),
        }

        let created = env
            .post_json("/stacks", json!({"assetIds": [jpg, raw]}))
            .await;
        assert_eq!(created.status(), 201, "{profile:?}");
        let stack = json(created).await;
        assert_eq!(stack["primaryAssetId"], json!(jpg));
        assert_eq!(ids_of(&stack["assets"]), [jpg.clone(), raw.clone()]);
        let stack_id = id_of(&stack);
        let read = env.get(&format!("/stacks/{stack_id}")).await;
        assert_eq!(read.status(), 200);
        assert_eq!(json(read).await["primaryAssetId"], json!(jpg));
        let asset = json(env.get(&format!("/assets/{raw}")).await).await;
        assert_eq!(
            asset["stack"],
            json!({"id": stack_id, "primaryAssetId": jpg, "assetCount": 2})
        );
        let lone = json(env.get(&format!("/assets/{other}")).await).await;
        assert_eq!(lone["stack"], Value::Null);

        // Another user's asset fails the whole request.
        let bob = env.server.add_user("bob@example.com", "Bob");
        let bobs = env.server.insert_asset(&bob, "b.jpg", b"bob");
        let foreign = env
            .post_json("/stacks", json!({"assetIds": [other, bobs]}))
            .await;
        assert_eq!(foreign.status(), 400);
        assert_eq!(
            json(foreign).await["message"],
            json!("Not found or no asset.update access")
        );
        let unknown = uuid::Uuid::new_v4().to_string();
        assert_eq!(
            json(env.get(&format!("/stacks/{unknown}")).await).await["message"],
            json!("Not found or no stack.read access")
        );

        // Stacking a stack's primary again merges that stack into the new one.
        let merged = json(
            env.post_json("/stacks", json!({"assetIds": [other, jpg]}))
                .await,
        )
        .await;
        let stacks = env.server.stacks(&env.user);
        assert_eq!(stacks.len(), 1, "{profile:?}");
        assert_eq!(stacks[0].id, id_of(&merged));
        assert_eq!(stacks[0].primary_asset_id, other);
        assert_eq!(
            stacks[0].asset_ids,
            [other.clone(), jpg.clone(), raw.clone()]
        );

        // Purging the primary of three hands the stack on; purging one of two ends it.
        env.server.purge_asset(&other);
        let stacks = env.server.stacks(&env.user);
        assert_eq!(stacks[0].primary_asset_id, jpg);
        assert_eq!(stacks[0].asset_ids, [jpg.clone(), raw.clone()]);
        env.server.purge_asset(&jpg);
        assert!(env.server.stacks(&env.user).is_empty());
        let raw_now = json(env.get(&format!("/assets/{raw}")).await).await;
        assert_eq!(raw_now["stack"], Value::Null);
    }
}

#[tokio::test]
async fn asset_updates_show_in_the_asset_and_its_snapshot() {
    let env = Env::start(Profile::V3).await;
    let id = env.upload_new("p.jpg", b"photo").await;
    let path = format!("/assets/{id}");
    let response = env
        .put_json(
            &path,
            json!({
                "description": "Grandma's cake",
                "rating": 4,
                "dateTimeOriginal": "2020-02-03T05:05:06.000+01:00",
                "latitude": 48.137,
                "longitude": 11.575,
                "isFavorite": true,
                "visibility": "archive",
            }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let updated = json(response).await;
    for asset in [updated, json(env.get(&path).await).await] {
        assert_eq!(asset["exifInfo"]["description"], json!("Grandma's cake"));
        assert_eq!(asset["exifInfo"]["rating"], json!(4));
        assert_eq!(
            asset["exifInfo"]["dateTimeOriginal"],
            json!("2020-02-03T04:05:06.000Z")
        );
        assert_eq!(asset["exifInfo"]["latitude"], json!(48.137));
        assert_eq!(asset["exifInfo"]["longitude"], json!(11.575));
        assert_eq!(asset["isFavorite"], json!(true));
        assert_eq!(asset["visibility"], json!("archive"));
        assert_eq!(asset["fileCreatedAt"], json!("2020-02-03T04:05:06.000Z"));
    }
    let snapshot = env.server.assets(&env.user).pop().unwrap();
    assert_eq!(snapshot.description.as_deref(), Some("Grandma's cake"));
    assert_eq!(snapshot.rating, Some(4));
    assert_eq!(
        snapshot.date_time_original.as_deref(),
        Some("2020-02-03T04:05:06.000Z")
    );
    assert_eq!(
        (snapshot.latitude, snapshot.longitude),
        (Some(48.137), Some(11.575))
    );
    assert_eq!(snapshot.visibility, "archive");
    assert!(snapshot.is_favorite);

    // Rejected (-1) and cleared (null) ratings.
    let rejected = json(env.put_json(&path, json!({"rating": -1})).await).await;
    assert_eq!(rejected["exifInfo"]["rating"], json!(-1));
    let cleared = json(env.put_json(&path, json!({"rating": null})).await).await;
    assert_eq!(cleared["exifInfo"]["rating"], Value::Null);
    assert_eq!(cleared["exifInfo"]["description"], json!("Grandma's cake"));

    // What the server refuses.
    for body in [
        json!({"rating": 6}),
        json!({"rating": 0}),
        json!({"rating": 2.5}),
        json!({"latitude": 91, "longitude": 0}),
        json!({"latitude": 10}),
        json!({"isFavorite": "yes"}),
        json!({"visibility": "secret"}),
        json!({"dateTimeOriginal": "yesterday"}),
    ] {
        let response = env.put_json(&path, body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(
            json(response).await["message"],
            json!("Validation failed"),
            "{body}"
        );
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = env
        .put_json(&format!("/assets/{unknown}"), json!({"rating": 1}))
        .await;
    assert_eq!(missing.status(), 400);
    assert_eq!(
        json(missing).await,
        json!({"message": "Not found or no asset.update access"})
    );

    // Many at once: 204, all-or-nothing.
    let other = env.upload_new("q.jpg", b"other photo").await;
    let many = env
        .put_json(
            "/assets",
            json!({"ids": [id, other], "isFavorite": false, "description": "both"}),
        )
        .await;
    assert_eq!(many.status(), 204);
    let snapshots = env.server.assets(&env.user);
    assert!(
        snapshots
            .iter()
            .all(|a| !a.is_favorite && a.description.as_deref() == Some("both"))
    );
    let partly = env
        .put_json("/assets", json!({"ids": [id, unknown], "rating": 5}))
        .await;
    assert_eq!(partly.status(), 400);
    assert_eq!(env.server.assets(&env.user)[0].rating, None);
}

#[tokio::test]
async fn v2_reads_a_zero_rating_as_none() {
    let env = Env::start(Profile::V2).await;
    let id = env.upload_new("p.jpg", b"photo").await;
    let path = format!("/assets/{id}");
    assert_eq!(
        env.put_json(&path, json!({"rating": 3})).await.status(),
        200
    );
    let cleared = json(env.put_json(&path, json!({"rating": 0})).await).await;
    assert_eq!(cleared["exifInfo"]["rating"], Value::Null);
    let refused = json(env.put_json(&path, json!({"latitude": 10})).await).await;
    assert_eq!(refused["message"], json!(["longitude should not be empty"]));
}

#[tokio::test]
async fn live_photos_link_hide_and_purge_together() {
    let env = Env::start(Profile::V3).await;
    let video = env.upload_new("IMG_1.MOV", b"motion").await;
    let album = id_of(
        &json(
            env.post_json("/albums", json!({"albumName": "Trip", "assetIds": [video]}))
                .await,
        )
        .await,
    );
    let still = env
        .upload_new_with("IMG_1.HEIC", b"still", &[("livePhotoVideoId", &video)])
        .await;

    let still_json = json(env.get(&format!("/assets/{still}")).await).await;
    assert_eq!(still_json["livePhotoVideoId"], json!(video));
    let video_json = json(env.get(&format!("/assets/{video}")).await).await;
    assert_eq!(video_json["visibility"], json!("hidden"));
    assert!(env.server.albums(&env.user)[0].asset_ids.is_empty());
    let snapshots = env.server.assets(&env.user);
    assert_eq!(snapshots[0].visibility, "hidden");
    assert_eq!(snapshots[1].live_photo_video_id.as_deref(), Some(&*video));
    let trip = json(env.get(&format!("/albums/{album}")).await).await;
    assert_eq!(trip["assetCount"], json!(0));

    // Trashing the still leaves the video; purging it takes the video along.
    env.delete_json("/assets", json!({"ids": [still]})).await;
    let snapshots = env.server.assets(&env.user);
    assert!(snapshots[1].is_trashed && !snapshots[0].is_trashed);
    assert_eq!(
        env.delete_json("/assets", json!({"ids": [still], "force": true}))
            .await
            .status(),
        204
    );
    assert!(env.server.assets(&env.user).is_empty());
    assert_eq!(env.get(&format!("/assets/{video}")).await.status(), 400);

    // Emptying the trash does the same.
    let video = env.upload_new("IMG_2.MOV", b"motion 2").await;
    let still = env
        .upload_new_with("IMG_2.HEIC", b"still 2", &[("livePhotoVideoId", &video)])
        .await;
    env.server.trash_asset(&still);
    let emptied = json(env.post_json("/trash/empty", json!({})).await).await;
    assert_eq!(emptied["count"], json!(1));
    assert!(env.server.assets(&env.user).is_empty());

    // What cannot be a motion part.
    let image = env.upload_new("plain.jpg", b"plain").await;
    let bob = env.server.add_user("bob@example.com", "Bob");
    let bobs_video = env.server.insert_asset(&bob, "bob.mov", b"bob's video");
    let unknown = uuid::Uuid::new_v4().to_string();
    for (video_id, message) in [
        (&image, "Live photo video must be a video"),
        (&bobs_video, "Live photo video does not belong to the user"),
        (&unknown, "Live photo video not found"),
    ] {
        let form = upload_form("s.heic", b"s", &[("livePhotoVideoId", video_id)]);
        let response = env.upload_form(form, b"", false).await.unwrap();
        assert_eq!(response.status(), 400, "{message}");
        assert_eq!(json(response).await["message"], json!(message));
    }

    // Linking and unlinking with `PUT /assets/{id}`.
    let video = env.upload_new("IMG_3.MOV", b"motion 3").await;
    let still = env.upload_new("IMG_3.HEIC", b"still 3").await;
    let linked = json(
        env.put_json(
            &format!("/assets/{still}"),
            json!({"livePhotoVideoId": video}),
        )
        .await,
    )
    .await;
    assert_eq!(linked["livePhotoVideoId"], json!(video));
    let hidden = json(env.get(&format!("/assets/{video}")).await).await;
    assert_eq!(hidden["visibility"], json!("hidden"));
    let unlinked = json(
        env.put_json(
            &format!("/assets/{still}"),
            json!({"livePhotoVideoId": null}),
        )
        .await,
    )
    .await;
    assert_eq!(unlinked["livePhotoVideoId"], Value::Null);
    let shown = json(env.get(&format!("/assets/{video}")).await).await;
    assert_eq!(shown["visibility"], json!("timeline"));
}

/// A changed file's new asset takes over the old one's albums and stack.
#[tokio::test]
async fn copy_moves_albums_and_stack_to_the_new_version() {
    let env = Env::start(Profile::V3).await;
    let old = env.upload_new("p.jpg", b"version one").await;
    let raw = env.upload_new("p.dng", b"raw").await;
    let new = env.upload_new("p.jpg", b"version two").await;
    env.post_json("/albums", json!({"albumName": "A", "assetIds": [old]}))
        .await;
    env.post_json("/stacks", json!({"assetIds": [old, raw]}))
        .await;
    let copied = env
        .put_json("/assets/copy", json!({"sourceId": old, "targetId": new}))
        .await;
    assert_eq!(copied.status(), 204);
    assert_eq!(
        env.server.albums(&env.user)[0].asset_ids,
        [old.clone(), new.clone()]
    );
    assert_eq!(
        env.server.stacks(&env.user)[0].asset_ids,
        [old.clone(), raw.clone(), new.clone()]
    );
    let same = env
        .put_json("/assets/copy", json!({"sourceId": old, "targetId": old}))
        .await;
    assert_eq!(same.status(), 400);
    assert_requests_match_the_document(&env);
}

/// `PUT /tags` with these paths; the ids of the tags answered, in order.
async fn upsert_tags(env: &Env, paths: &[&str]) -> Vec<String> {
    let response = env.put_json("/tags", json!({ "tags": paths })).await;
    assert_eq!(response.status(), 200, "{paths:?}");
    ids_of(&json(response).await)
}

/// What every `TagResponseDto` carries: the full path as `value`, its last part as `name`,
/// both dates, and `parentId`/`color` only when there is one (never `null`).
fn assert_tag_shape(tag: &Value) {
    let value = tag["value"].as_str().expect("value");
    assert_eq!(tag["name"].as_str(), value.rsplit('/').next(), "{tag}");
    for field in ["id", "createdAt", "updatedAt"] {
        assert!(tag[field].is_string(), "{field} in {tag}");
    }
    assert_eq!(tag.get("parentId").is_some(), value.contains('/'), "{tag}");
    assert!(tag.get("color").is_none(), "{tag}");
}

#[tokio::test]
async fn tags_are_made_once_per_path_and_nest() {
    for profile in [Profile::V3, Profile::V2] {
        let env = Env::start(profile).await;
        let response = env
            .put_json("/tags", json!({"tags": ["Places/Paris", "Holiday"]}))
            .await;
        assert_eq!(response.status(), 200, "{profile:?}");
        let made = json(response).await;
        let made = made.as_array().unwrap();
        assert_eq!(made.len(), 2, "{profile:?}");
        made.iter().for_each(assert_tag_shape);
        assert_eq!(
            (&made[0]["value"], &made[0]["name"]),
            (&json!("Places/Paris"), &json!("Paris"))
        );
        assert_eq!(made[1]["value"], json!("Holiday"));

        let listed = json(env.get("/tags").await).await;
        listed.as_array().unwrap().iter().for_each(assert_tag_shape);
        let values: Vec<&Value> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["value"])
            .collect();
        assert_eq!(
            values,
            [&json!("Holiday"), &json!("Places"), &json!("Places/Paris")]
        );
        let places = &listed[1];
        assert_eq!(
            made[0]["parentId"], places["id"],
            "Places/Paris sits in Places"
        );

        // Again, with a repeat and a sibling: existing levels are reused, a repeated path is
        // answered once.
        let again = env
            .put_json(
                "/tags",
                json!({"tags": ["Places", "Places/Paris", "Places/Paris", "Places/Lyon"]}),
            )
            .await;
        let again = json(again).await;
        assert_eq!(again.as_array().unwrap().len(), 3, "{profile:?}: {again}");
        assert_eq!(again[0]["id"], places["id"]);
        assert_eq!(again[1]["id"], made[0]["id"]);
        assert_eq!(again[1]["createdAt"], made[0]["createdAt"]);
        assert_eq!(again[2]["parentId"], places["id"]);
        assert_eq!(
            env.server.tags(&env.user),
            ["Holiday", "Places", "Places/Lyon", "Places/Paris"]
        );
        // Empty parts are dropped.
        assert_eq!(
            upsert_tags(&env, &["/Places//Paris/"]).await,
            [id_of(&made[0])]
        );

        // Tags belong to their owner: Bob's `Places` is another tag, and nobody else's tags
        // are listed.
        let bob = env.server.add_user("bob@example.com", "Bob");
        let bobs_key = env.server.add_api_key(&bob, &["all"]);
        let bobs = env
            .client
            .put(env.url("/tags"))
            .header("x-api-key", &bobs_key)
            .json(&json!({"tags": ["Places"]}))
            .send()
            .await
            .unwrap();
        assert_ne!(json(bobs).await[0]["id"], places["id"]);
        assert_eq!(env.server.tags(&bob), ["Places"]);
        assert_eq!(
            json(env.get("/tags").await).await.as_array().unwrap().len(),
            4
        );

        // What each generation refuses: v2 wants non-empty strings; v3 takes `""` (and
        // answers nothing for it) but not a number.
        let empty = env.put_json("/tags", json!({"tags": [""]})).await;
        let number = env.put_json("/tags", json!({"tags": [1]})).await;
        let missing = env.put_json("/tags", json!({})).await;
        match profile {
            Profile::V2 => {
                assert_eq!(empty.status(), 400);
                assert_eq!(
                    json(empty).await["message"],
                    json!(["each value in tags should not be empty"])
                );
                assert_eq!(
                    json(number).await["message"],
                    json!(["each value in tags must be a string"])
                );
                assert_eq!(
                    json(missing).await["message"],
                    json!([
                        "each value in tags should not be empty",
                        "each value in tags must be a string"
                    ])
                );
            }
            Profile::V3 => {
                assert_eq!(empty.status(), 200);
                assert_eq!(json(empty).await, json!([]));
                assert_eq!(number.status(), 400);
                let refused = json(number).await;
                assert_eq!(refused["message"], json!("Validation failed"));
                assert_eq!(refused["errors"][0]["path"], json!(["tags", 0]));
                assert_eq!(missing.status(), 400);
                assert_eq!(json(missing).await["errors"][0]["path"], json!(["tags"]));
            }
        }
        assert_eq!(env.server.tags(&env.user).len(), 4, "{profile:?}");
    }
}

#[tokio::test]
async fn bulk_tagging_counts_new_links_and_shows_on_the_asset() {
    for profile in [Profile::V3, Profile::V2] {
        let env = Env::start(profile).await;
        let a = env.upload_new("a.jpg", b"photo a").await;
        let b = env.upload_new("b.jpg", b"photo b").await;
        let c = env.upload_new("c.jpg", b"photo c").await;
        let tags = upsert_tags(&env, &["Places/Paris", "Holiday"]).await;
        let (paris, holiday) = (tags[0].clone(), tags[1].clone());
        let tag = |tag_ids: Vec<&String>, asset_ids: Vec<&String>| {
            env.put_json(
                "/tags/assets",
                json!({"tagIds": tag_ids, "assetIds": asset_ids}),
            )
        };

        let first = tag(vec![&paris, &holiday], vec![&a, &b]).await;
        assert_eq!(first.status(), 200, "{profile:?}");
        assert_eq!(json(first).await, json!({"count": 4}));
        let repeated = tag(vec![&paris, &holiday], vec![&a, &b]).await;
        assert_eq!(json(repeated).await, json!({"count": 0}), "idempotent");
        let partly_new = tag(vec![&paris, &paris], vec![&a, &c, &c]).await;
        assert_eq!(json(partly_new).await, json!({"count": 1}));

        let shown = json(env.get(&format!("/assets/{a}")).await).await;
        let on_a = shown["tags"].as_array().expect("tags");
        on_a.iter().for_each(assert_tag_shape);
        let values: Vec<&Value> = on_a.iter().map(|t| &t["value"]).collect();
        assert_eq!(
            values,
            [&json!("Holiday"), &json!("Places/Paris")],
            "{profile:?}"
        );
        assert_eq!(on_a[1]["id"], json!(paris));
        let snapshots = env.server.assets(&env.user);
        let tags_of = |id: &str| {
            snapshots
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.tags.clone())
                .unwrap()
        };
        assert_eq!(tags_of(&a), ["Holiday", "Places/Paris"]);
        assert_eq!(tags_of(&c), ["Places/Paris"]);

        // Ids the caller cannot use are skipped, not refused (Immich checks them with
        // `checkAccess`): another user's asset and tag, ids that do not exist. A trashed
        // asset can be tagged.
        let bob = env.server.add_user("bob@example.com", "Bob");
        let bobs_asset = env.server.insert_asset(&bob, "bob.jpg", b"bob's photo");
        let bobs_key = env.server.add_api_key(&bob, &["all"]);
        let bobs_tag = json(
            env.client
                .put(env.url("/tags"))
                .header("x-api-key", &bobs_key)
                .json(&json!({"tags": ["Secret"]}))
                .send()
                .await
                .unwrap(),
        )
        .await[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let unknown = uuid::Uuid::new_v4().to_string();
        let foreign = tag(vec![&bobs_tag, &unknown], vec![&a]).await;
        assert_eq!(foreign.status(), 200);
        assert_eq!(json(foreign).await, json!({"count": 0}));
        let foreign = tag(vec![&holiday], vec![&bobs_asset, &unknown]).await;
        assert_eq!(json(foreign).await, json!({"count": 0}));
        assert!(env.server.assets(&bob)[0].tags.is_empty());
        env.server.trash_asset(&c);
        assert_eq!(
            json(tag(vec![&holiday], vec![&c]).await).await,
            json!({"count": 1})
        );
        let bad = tag(vec![&holiday], vec![&"not-a-uuid".to_string()]).await;
        assert_eq!(bad.status(), 400);

        // A purged asset loses its links; the tags and the other assets' links stay.
        env.server.purge_asset(&a);
        assert_eq!(tags_of(&b), ["Holiday", "Places/Paris"]);
        let after = env.server.assets(&env.user);
        assert_eq!(after.len(), 2);
        assert!(after.iter().all(|s| s.id != a));
        assert_eq!(
            env.server.tags(&env.user),
            ["Holiday", "Places", "Places/Paris"]
        );
    }
}

#[tokio::test]
async fn each_new_route_needs_its_permission() {
    let env = Env::start(Profile::V3).await;
    let asset = env.upload_new("a.jpg", b"a").await;
    let album = id_of(&json(env.post_json("/albums", json!({"albumName": "A"})).await).await);
    let stack = id_of(
        &json(
            env.post_json(
                "/stacks",
                json!({"assetIds": [asset, env.upload_new("b.jpg", b"b").await]}),
            )
            .await,
        )
        .await,
    );
    let limited = env
        .server
        .add_api_key(&env.user, &["asset.read", "asset.upload"]);
    let ids = json!({"ids": [asset]});
    let cases: Vec<(reqwest::Method, String, Option<Value>, &str)> = vec![
        (reqwest::Method::GET, "/albums".into(), None, "album.read"),
        (
            reqwest::Method::POST,
            "/albums".into(),
            Some(json!({"albumName": "B"})),
            "album.create",
        ),
        (
            reqwest::Method::GET,
            format!("/albums/{album}"),
            None,
            "album.read",
        ),
        (
            reqwest::Method::DELETE,
            format!("/albums/{album}"),
            None,
            "album.delete",
        ),
        (
            reqwest::Method::PUT,
            format!("/albums/{album}/assets"),
            Some(ids.clone()),
            "albumAsset.create",
        ),
        (
            reqwest::Method::DELETE,
            format!("/albums/{album}/assets"),
            Some(ids.clone()),
            "albumAsset.delete",
        ),
        (
            reqwest::Method::PUT,
            "/albums/assets".into(),
            Some(json!({"albumIds": [album], "assetIds": [asset]})),
            "albumAsset.create",
        ),
        (
            reqwest::Method::POST,
            "/stacks".into(),
            Some(json!({"assetIds": [asset, asset]})),
            "stack.create",
        ),
        (
            reqwest::Method::GET,
            format!("/stacks/{stack}"),
            None,
            "stack.read",
        ),
        (
            reqwest::Method::PUT,
            format!("/assets/{asset}"),
            Some(json!({"rating": 1})),
            "asset.update",
        ),
        (
            reqwest::Method::PUT,
            "/assets".into(),
            Some(json!({"ids": [asset], "rating": 1})),
            "asset.update",
        ),
        (reqwest::Method::GET, "/tags".into(), None, "tag.read"),
        (
            reqwest::Method::PUT,
            "/tags".into(),
            Some(json!({"tags": ["Places/Paris"]})),
            "tag.create",
        ),
        (
            reqwest::Method::PUT,
            "/tags/assets".into(),
            Some(json!({"tagIds": [asset], "assetIds": [asset]})),
            "tag.asset",
        ),
    ];
    for (method, path, body, permission) in cases {
        let mut request = env
            .client
            .request(method.clone(), env.url(&path))
            .header("x-api-key", &limited);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
        assert_eq!(
            json(response).await,
            json!({ "message": format!("Missing required permission: {permission}") }),
            "{method} {path}"
        );
    }
    assert_eq!(env.server.albums(&env.user).len(), 1, "nothing changed");
    assert!(env.server.tags(&env.user).is_empty(), "nothing changed");
}

/// Every new endpoint, called as a client should, with requests the v3.1.0 document allows
/// and 2xx answers.
#[tokio::test]
async fn new_requests_match_the_openapi_document() {
    let env = Env::start(Profile::V3).await;
    let video = env.upload_new("m.mov", b"motion").await;
    let still = env
        .upload_new_with("s.heic", b"still", &[("livePhotoVideoId", &video)])
        .await;
    let raw = env.upload_new("s.dng", b"raw").await;
    let album = id_of(
        &json(
            env.post_json(
                "/albums",
                json!({"albumName": "Folder", "description": "From disk", "assetIds": [still]}),
            )
            .await,
        )
        .await,
    );
    env.get("/albums").await;
    env.get(&format!("/albums?name=Folder&id={album}")).await;
    env.get(&format!("/albums?assetId={still}")).await;
    env.get(&format!("/albums/{album}")).await;
    env.put_json(&format!("/albums/{album}/assets"), json!({"ids": [raw]}))
        .await;
    env.put_json(
        "/albums/assets",
        json!({"albumIds": [album], "assetIds": [raw]}),
    )
    .await;
    env.post_json(
        "/search/metadata",
        json!({"albumIds": [album], "withDeleted": true, "size": 1000}),
    )
    .await;
    env.delete_json(&format!("/albums/{album}/assets"), json!({"ids": [raw]}))
        .await;
    let stack = id_of(
        &json(
            env.post_json("/stacks", json!({"assetIds": [still, raw]}))
                .await,
        )
        .await,
    );
    env.get(&format!("/stacks/{stack}")).await;
    env.put_json(
        &format!("/assets/{still}"),
        json!({
            "description": "d",
            "rating": 5,
            "dateTimeOriginal": "2021-06-01T12:00:00.000Z",
            "latitude": 1.5,
            "longitude": -2.25,
            "isFavorite": true,
            "visibility": "timeline",
        }),
    )
    .await;
    env.put_json(
        "/assets",
        json!({"ids": [still, raw], "rating": null, "isFavorite": false}),
    )
    .await;
    env.get(&format!("/assets/{still}")).await;
    env.delete(&format!("/albums/{album}")).await;
    let tags = upsert_tags(&env, &["Places/Paris", "Holiday"]).await;
    env.put_json(
        "/tags/assets",
        json!({"tagIds": tags, "assetIds": [still, raw]}),
    )
    .await;
    env.get("/tags").await;
    env.get(&format!("/assets/{raw}")).await;

    let requests = env.server.requests();
    assert_eq!(requests.len(), 22);
    for request in &requests {
        assert!(
            (200..300).contains(&request.status),
            "{} {} answered {}",
            request.method,
            request.path,
            request.status
        );
    }
    assert_requests_match_the_document(&env);

    // What the document refuses is refused here too.
    let spec = Spec::bundled();
    env.server.clear_requests();
    env.post_json("/stacks", json!({"assetIds": [still]})).await;
    env.put_json(&format!("/assets/{still}"), json!({"rating": 6}))
        .await;
    env.post_json("/albums", json!({"description": "no name"}))
        .await;
    env.put_json("/tags", json!({"tags": [1]})).await;
    env.put_json("/tags", json!({})).await;
    env.put_json(
        "/tags/assets",
        json!({"tagIds": ["not-a-uuid"], "assetIds": [still]}),
    )
    .await;
    env.put_json("/tags/assets", json!({"tagIds": tags})).await;
    let refused = env.server.requests();
    assert_eq!(refused.len(), 7);
    for request in refused {
        assert_eq!(request.status, 400, "{request:?}");
        assert!(spec.validate(&request).is_err(), "{request:?}");
    }
}

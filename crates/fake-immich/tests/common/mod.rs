//! Helpers shared by the integration tests: a started server with one user and key, and an
//! upload request built the way a client sends it (text fields first, then the file).

#![allow(dead_code)]

use fake_immich::{FakeImmich, Profile};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response};
use serde_json::Value;
use sha1::{Digest, Sha1};

pub struct Env {
    pub server: FakeImmich,
    pub user: String,
    pub key: String,
    pub client: Client,
}

impl Env {
    pub async fn start(profile: Profile) -> Env {
        let server = FakeImmich::start(profile).await;
        let user = server.add_user("alice@example.com", "Alice");
        let key = server.add_api_key(&user, &["all"]);
        Env {
            server,
            user,
            key,
            client: Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api{path}", self.server.url())
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_result(&self, path: &str) -> reqwest::Result<Response> {
        self.client
            .get(self.url(path))
            .header("x-api-key", &self.key)
            .send()
            .await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .header("x-api-key", &self.key)
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn put_json(&self, path: &str, body: Value) -> Response {
        self.client
            .put(self.url(path))
            .header("x-api-key", &self.key)
            .json(&body)
            .send()
            .await
            .expect("PUT")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("DELETE")
    }

    /// Uploads `name` with the usual fields and returns the new asset's id.
    ///
    /// # Panics
    /// If the server does not answer 201.
    pub async fn upload_new(&self, name: &str, content: &[u8]) -> String {
        self.upload_new_with(name, content, &[]).await
    }

    /// Like [`Env::upload_new`], with extra or replaced text fields.
    pub async fn upload_new_with(
        &self,
        name: &str,
        content: &[u8],
        overrides: &[(&str, &str)],
    ) -> String {
        let response = self
            .upload_form(upload_form(name, content, overrides), content, false)
            .await
            .expect("upload");
        assert_eq!(response.status(), 201, "upload of {name}");
        json(response).await["id"].as_str().expect("id").to_string()
    }

    pub async fn delete_json(&self, path: &str, body: Value) -> Response {
        self.client
            .delete(self.url(path))
            .header("x-api-key", &self.key)
            .json(&body)
            .send()
            .await
            .expect("DELETE")
    }

    /// Uploads with the usual fields; `with_checksum` adds the `x-immich-checksum` header.
    pub async fn upload(
        &self,
        name: &str,
        content: &[u8],
        with_checksum: bool,
    ) -> reqwest::Result<Response> {
        self.upload_form(upload_form(name, content, &[]), content, with_checksum)
            .await
    }

    pub async fn upload_form(
        &self,
        form: Form,
        content: &[u8],
        with_checksum: bool,
    ) -> reqwest::Result<Response> {
        let mut request = self
            .client
            .post(self.url("/assets"))
            .header("x-api-key", &self.key)
            .multipart(form);
        if with_checksum {
            request = request.header("x-immich-checksum", sha1_hex(content));
        }
        request.send().await
    }
}

pub fn sha1_hex(content: &[u8]) -> String {
    hex::encode(Sha1::digest(content))
}

/// A client's upload form; `overrides` replace (or, with an empty value, drop) text fields.
pub fn upload_form(name: &str, content: &[u8], overrides: &[(&str, &str)]) -> Form {
    let mut fields = vec![
        ("deviceAssetId", format!("{name}-{}", content.len())),
        ("deviceId", "test-device".to_string()),
        ("fileCreatedAt", "2024-05-01T08:00:00.000Z".to_string()),
        ("fileModifiedAt", "2024-05-01T09:00:00.000Z".to_string()),
        ("filename", name.to_string()),
    ];
    for (key, value) in overrides {
        fields.retain(|(k, _)| k != key);
        if !value.is_empty() {
            fields.push((key, value.to_string()));
        }
    }
    let mut form = Form::new();
    for (key, value) in fields {
        form = form.text(key.to_string(), value);
    }
    form.part(
        "assetData",
        Part::bytes(content.to_vec()).file_name(name.to_string()),
    )
}

pub async fn json(response: Response) -> Value {
    response.json().await.expect("JSON body")
}

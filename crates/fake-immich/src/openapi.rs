//! Checks recorded requests against Immich's own OpenAPI document (v3.1.0, bundled), so a
//! test can prove that what a client sends is something the real server accepts.
//!
//! What is checked: the operation exists for the method and (templated) path; path
//! parameters and required query parameters and headers; a JSON body against the request
//! schema (`$ref`, `allOf`/`oneOf`/`anyOf`, `type`, `required`, `properties`, `items`,
//! `enum`, `nullable`, `format` `uuid`/`date-time`, `minimum`/`maximum`,
//! `minLength`/`maxLength`, `minItems`/`maxItems`); and a multipart body's required fields and
//! text values. Unknown properties pass, since Immich strips them. Regular-expression
//! `pattern`s are not run: the ones in the document that matter are those of the `uuid`
//! (v4) and `date-time` (v3's strict ISO form) formats, which are checked as formats.
//! Paths outside `/api` (such as `/.well-known/immich`) are not part of the document and
//! pass, as do bodies the server never read ([`RecordedBody::Other`]).

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::record::{RecordedBody, RecordedRequest};
use crate::validate::{is_strict_date_time, is_uuid_v4};

const BUNDLED_JSON: &str = include_str!("../openapi/immich-openapi-specs-v3.1.0.json");

/// A parsed OpenAPI document.
pub struct Spec {
    doc: Value,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("version", &self.version())
            .finish()
    }
}

/// The operation a request maps to.
struct Operation<'a> {
    op: &'a Value,
    item: &'a Value,
    template: &'a str,
    path_values: Vec<(&'a str, String)>,
}

impl Spec {
    /// Immich v3.1.0's document, parsed once.
    pub fn bundled() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            Spec::from_json(BUNDLED_JSON).expect("the bundled OpenAPI document is valid JSON")
        })
    }

    /// Parses another OpenAPI 3.0 document.
    pub fn from_json(text: &str) -> Result<Spec, serde_json::Error> {
        Ok(Spec {
            doc: serde_json::from_str(text)?,
        })
    }

    /// `info.version` of the document.
    pub fn version(&self) -> &str {
        self.doc["info"]["version"].as_str().unwrap_or("")
    }

    /// Checks one recorded request; `Err` lists every problem found.
    pub fn validate(&self, req: &RecordedRequest) -> Result<(), Vec<String>> {
        let Some(api_path) = strip_api(&req.path) else {
            return Ok(());
        };
        let method = req.method.to_ascii_lowercase();
        let operation = self
            .find_operation(&method, api_path)
            .map_err(|problem| vec![format!("{} {}: {problem}", req.method, req.path)])?;
        let mut errs = Vec::new();
        self.check_parameters(&operation, req, &mut errs);
        self.check_body(&operation, &req.body, &mut errs);
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs
                .into_iter()
                .map(|e| format!("{} {} ({}): {e}", req.method, req.path, operation.template))
                .collect())
        }
    }

    fn find_operation<'a>(&'a self, method: &str, path: &str) -> Result<Operation<'a>, String> {
        let paths = self.doc["paths"]
            .as_object()
            .ok_or("the document has no paths")?;
        let segments: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, Operation<'a>)> = None;
        let mut path_matched = false;
        for (template, item) in paths {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let mut values = Vec::new();
            let fits = parts.iter().zip(&segments).all(|(t, s)| {
                if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    values.push((name, percent_decode(s)));
                    !s.is_empty()
                } else {
                    literal += 1;
                    t == s
                }
            });
            if !fits {
                continue;
            }
            path_matched = true;
            let Some(op) = item.get(method) else { continue };
            if best.as_ref().is_none_or(|(l, _)| literal > *l) {
                best = Some((
                    literal,
                    Operation {
                        op,
                        item,
                        template,
                        path_values: values,
                    },
                ));
            }
        }
        match best {
            Some((_, operation)) => Ok(operation),
            None if path_matched => {
                Err("no such method for this path in the OpenAPI document".into())
            }
            None => Err("no such path in the OpenAPI document".into()),
        }
    }

    fn check_parameters(
        &self,
        operation: &Operation<'_>,
        req: &RecordedRequest,
        errs: &mut Vec<String>,
    ) {
        let query = parse_query(req.query.as_deref());
        let declared = operation.item["parameters"]
            .as_array()
            .into_iter()
            .chain(operation.op["parameters"].as_array())
            .flatten()
            .map(|p| self.resolve(p));
        for param in declared {
            let name = param["name"].as_str().unwrap_or("");
            let required = param["required"].as_bool().unwrap_or(false);
            let schema = &param["schema"];
            match param["in"].as_str() {
                Some("path") => {
                    for (_, value) in operation.path_values.iter().filter(|(n, _)| *n == name) {
                        self.check_text(schema, value, &format!("path parameter {name}"), errs);
                    }
                }
                Some("query") => {
                    let values: Vec<&String> = query
                        .iter()
                        .filter(|(n, _)| n == name)
                        .map(|(_, v)| v)
                        .collect();
                    if values.is_empty() && required {
                        errs.push(format!("query parameter {name} is required"));
                    }
                    let schema = self.resolve(schema);
                    let item_schema = if schema["type"] == "array" {
                        &schema["items"]
                    } else {
                        schema
                    };
                    for value in values {
                        self.check_text(
                            item_schema,
                            value,
                            &format!("query parameter {name}"),
                            errs,
                        );
                    }
                }
                Some("header") => match req.header(name) {
                    None if required => errs.push(format!("header {name} is required")),
                    Some(value) if value != crate::REDACTED => {
                        self.check_text(schema, value, &format!("header {name}"), errs);
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }

    fn check_body(&self, operation: &Operation<'_>, body: &RecordedBody, errs: &mut Vec<String>) {
        let request_body = self.resolve(&operation.op["requestBody"]);
        if request_body.is_null() {
            return;
        }
        let required = request_body["required"].as_bool().unwrap_or(false);
        let content = &request_body["content"];
        match body {
            RecordedBody::Other(_) => {}
            RecordedBody::Empty => {
                if required {
                    errs.push("a request body is required".into());
                }
            }
            RecordedBody::Json(value) => match content.get("application/json") {
                Some(media) => self.check_value(&media["schema"], value, "body", errs),
                None => errs.push(
                    "a JSON body was sent where the operation takes another content type".into(),
                ),
            },
            RecordedBody::Multipart(fields) => {
                let Some(media) = content.get("multipart/form-data") else {
                    errs.push(
                        "a multipart body was sent where the operation takes another content type"
                            .into(),
                    );
                    return;
                };
                let schema = self.resolve(&media["schema"]);
                let props = schema["properties"].as_object();
                for name in schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !fields.iter().any(|f| f.name == name) {
                        errs.push(format!("multipart field {name} is required"));
                    }
                }
                for field in fields {
                    let Some(prop) = props.and_then(|p| p.get(&field.name)) else {
                        continue;
                    };
                    let prop = self.resolve(prop);
                    let at = format!("multipart field {}", field.name);
                    if prop["format"] == "binary" {
                        if field.file_name.is_none() && field.text.is_some() {
                            errs.push(format!("{at}: must be a file part"));
                        }
                    } else {
                        match &field.text {
                            Some(text) => self.check_text(prop, text, &at, errs),
                            None => errs.push(format!("{at}: must be a text part")),
                        }
                    }
                }
            }
        }
    }

    /// Follows `$ref`s to the schema they name.
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                return schema;
            };
            let Some(pointer) = reference.strip_prefix('#') else {
                return &Value::Null;
            };
            schema = self.doc.pointer(pointer).unwrap_or(&Value::Null);
        }
        schema
    }

    /// The effective `type` of a schema, looking through a single `allOf`.
    fn type_of<'a>(&'a self, schema: &'a Value) -> Option<&'a str> {
        let schema = self.resolve(schema);
        if let Some(t) = schema["type"].as_str() {
            return Some(t);
        }
        if schema.get("properties").is_some() {
            return Some("object");
        }
        match schema["allOf"].as_array() {
            Some(parts) if parts.len() == 1 => self.type_of(&parts[0]),
            _ => None,
        }
    }

    /// Checks a value that travels as text (path, query, header, multipart) by coercing it
    /// to the schema's type first, as the server's validation does.
    fn check_text(&self, schema: &Value, text: &str, at: &str, errs: &mut Vec<String>) {
        let value = match self.type_of(schema) {
            Some("integer") | Some("number") => {
                match (text.trim().parse::<i64>(), text.trim().parse::<f64>()) {
                    (Ok(n), _) => Value::from(n),
                    (Err(_), Ok(n)) => {
                        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
                    }
                    (Err(_), Err(_)) => {
                        errs.push(format!("{at}: {text:?} is not a number"));
                        return;
                    }
                }
            }
            Some("boolean") => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    errs.push(format!("{at}: {text:?} is not \"true\" or \"false\""));
                    return;
                }
            },
            Some("array") | Some("object") => match serde_json::from_str(text) {
                Ok(v) => v,
                Err(_) => {
                    errs.push(format!("{at}: {text:?} is not JSON"));
                    return;
                }
            },
            _ => Value::String(text.to_string()),
        };
        self.check_value(schema, &value, at, errs);
    }

    /// Checks a JSON value against a schema.
    fn check_value(&self, schema: &Value, value: &Value, at: &str, errs: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let Some(obj) = schema.as_object() else {
            return;
        };
        if value.is_null() {
            if obj.get("nullable").and_then(Value::as_bool) != Some(true) && !is_any(obj) {
                errs.push(format!("{at}: must not be null"));
            }
            return;
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for part in all {
                self.check_value(part, value, at, errs);
            }
        }
        if let Some(one) = obj.get("oneOf").and_then(Value::as_array) {
            let passing = one.iter().filter(|s| self.passes(s, value)).count();
            if passing != 1 {
                errs.push(format!(
                    "{at}: matches {passing} of the oneOf schemas, expected exactly 1"
                ));
            }
        }
        if let Some(any) = obj.get("anyOf").and_then(Value::as_array) {
            if !any.iter().any(|s| self.passes(s, value)) {
                errs.push(format!("{at}: matches none of the anyOf schemas"));
            }
        }
        if let Some(allowed) = obj.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                errs.push(format!(
                    "{at}: {value} is not one of {}",
                    Value::Array(allowed.clone())
                ));
            }
        }
        let kind = obj
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| obj.contains_key("properties").then_some("object"));
        match kind {
            Some("string") => self.check_string(obj, value, at, errs),
            Some("integer") => {
                let is_integer = value.as_i64().is_some()
                    || value.as_u64().is_some()
                    || value.as_f64().is_some_and(|f| f.fract() == 0.0);
                if is_integer {
                    check_range(obj, value, at, errs);
                } else {
                    errs.push(format!("{at}: expected an integer, got {value}"));
                }
            }
            Some("number") => {
                if value.is_number() {
                    check_range(obj, value, at, errs);
                } else {
                    errs.push(format!("{at}: expected a number, got {value}"));
                }
            }
            Some("boolean") if !value.is_boolean() => {
                errs.push(format!("{at}: expected a boolean, got {value}"));
            }
            Some("array") => match value.as_array() {
                Some(items) => {
                    check_count(obj, "minItems", "maxItems", items.len(), at, errs);
                    if let Some(item_schema) = obj.get("items") {
                        for (i, item) in items.iter().enumerate() {
                            self.check_value(item_schema, item, &format!("{at}[{i}]"), errs);
                        }
                    }
                }
                None => errs.push(format!("{at}: expected an array, got {value}")),
            },
            Some("object") => match value.as_object() {
                Some(map) => self.check_object(obj, map, at, errs),
                None => errs.push(format!("{at}: expected an object, got {value}")),
            },
            _ => {}
        }
    }

    fn check_string(
        &self,
        schema: &Map<String, Value>,
        value: &Value,
        at: &str,
        errs: &mut Vec<String>,
    ) {
        let Some(text) = value.as_str() else {
            errs.push(format!("{at}: expected a string, got {value}"));
            return;
        };
        check_count(
            schema,
            "minLength",
            "maxLength",
            text.chars().count(),
            at,
            errs,
        );
        match schema.get("format").and_then(Value::as_str) {
            Some("uuid") if !is_uuid_v4(text) => {
                errs.push(format!("{at}: {text:?} is not a UUID v4"))
            }
            Some("date-time") if !is_strict_date_time(text) => {
                errs.push(format!("{at}: {text:?} is not an ISO date-time with zone"))
            }
            Some("email") if !text.contains('@') => {
                errs.push(format!("{at}: {text:?} is not an email address"))
            }
            _ => {}
        }
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        map: &Map<String, Value>,
        at: &str,
        errs: &mut Vec<String>,
    ) {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(name) {
                errs.push(format!("{at}.{name}: required property missing"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, value) in map {
                if let Some(prop) = props.get(name) {
                    self.check_value(prop, value, &format!("{at}.{name}"), errs);
                }
            }
        }
    }

    fn passes(&self, schema: &Value, value: &Value) -> bool {
        let mut errs = Vec::new();
        self.check_value(schema, value, "", &mut errs);
        errs.is_empty()
    }
}

/// A schema without constraints (`{}` or one with only a description) admits anything.
fn is_any(schema: &Map<String, Value>) -> bool {
    ![
        "type",
        "$ref",
        "allOf",
        "oneOf",
        "anyOf",
        "enum",
        "properties",
        "items",
    ]
    .iter()
    .any(|k| schema.contains_key(*k))
}

fn check_range(schema: &Map<String, Value>, value: &Value, at: &str, errs: &mut Vec<String>) {
    let Some(n) = value.as_f64() else { return };
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if n < min {
            errs.push(format!("{at}: {value} is less than the minimum {min}"));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if n > max {
            errs.push(format!("{at}: {value} is greater than the maximum {max}"));
        }
    }
}

fn check_count(
    schema: &Map<String, Value>,
    min_key: &str,
    max_key: &str,
    n: usize,
    at: &str,
    errs: &mut Vec<String>,
) {
    if let Some(min) = schema.get(min_key).and_then(Value::as_u64) {
        if (n as u64) < min {
            errs.push(format!("{at}: {min_key} is {min}, got {n}"));
        }
    }
    if let Some(max) = schema.get(max_key).and_then(Value::as_u64) {
        if (n as u64) > max {
            errs.push(format!("{at}: {max_key} is {max}, got {n}"));
        }
    }
}

/// `/api/x` → `/x`; `None` for paths outside the API.
fn strip_api(path: &str) -> Option<&str> {
    match path.strip_prefix("/api") {
        Some("") => Some("/"),
        Some(rest) if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    fn hex_digit(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2]))
            {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::MultipartField;
    use serde_json::json;

    fn request(method: &str, path: &str, body: RecordedBody) -> RecordedRequest {
        RecordedRequest {
            method: method.into(),
            path: path.into(),
            query: None,
            headers: vec![("x-api-key".into(), crate::REDACTED.into())],
            body,
            status: 200,
        }
    }

    fn text(name: &str, value: &str) -> MultipartField {
        MultipartField {
            name: name.into(),
            file_name: None,
            text: Some(value.into()),
            len: value.len() as u64,
        }
    }

    fn file(name: &str, file_name: &str) -> MultipartField {
        MultipartField {
            name: name.into(),
            file_name: Some(file_name.into()),
            text: None,
            len: 3,
        }
    }

    #[test]
    fn bundled_document_is_v3_1() {
        assert_eq!(Spec::bundled().version(), "3.1.0");
    }

    #[test]
    fn valid_bulk_upload_check_passes() {
        let body = json!({"assets": [{"id": "a/b.jpg", "checksum": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}]});
        let req = request(
            "POST",
            "/api/assets/bulk-upload-check",
            RecordedBody::Json(body),
        );
        assert_eq!(Spec::bundled().validate(&req), Ok(()));
    }

    #[test]
    fn bulk_upload_check_without_checksum_fails() {
        let body = json!({"assets": [{"id": "a/b.jpg"}]});
        let req = request(
            "POST",
            "/api/assets/bulk-upload-check",
            RecordedBody::Json(body),
        );
        let errs = Spec::bundled().validate(&req).unwrap_err();
        assert!(errs.iter().any(|e| e.contains("checksum")), "{errs:?}");
    }

    #[test]
    fn upload_without_file_created_at_fails() {
        let fields = vec![
            text("deviceAssetId", "x"),
            text("deviceId", "y"),
            text("fileModifiedAt", "2024-05-01T08:00:00.000Z"),
            file("assetData", "a.jpg"),
        ];
        let req = request("POST", "/api/assets", RecordedBody::Multipart(fields));
        let errs = Spec::bundled().validate(&req).unwrap_err();
        assert!(errs.iter().any(|e| e.contains("fileCreatedAt")), "{errs:?}");
    }

    #[test]
    fn valid_upload_passes() {
        let fields = vec![
            text("deviceAssetId", "x"),
            text("deviceId", "y"),
            text("fileCreatedAt", "2024-05-01T08:00:00.000Z"),
            text("fileModifiedAt", "2024-05-01T08:00:00.000+02:00"),
            text("isFavorite", "false"),
            text("filename", "a.jpg"),
            text(
                "metadata",
                r#"[{"key":"sync-source","value":{"host":"h"}}]"#,
            ),
            file("assetData", "a.jpg"),
        ];
        let req = request("POST", "/api/assets", RecordedBody::Multipart(fields));
        assert_eq!(Spec::bundled().validate(&req), Ok(()));
    }

    #[test]
    fn upload_with_bad_boolean_or_duration_fails() {
        let fields = vec![
            text("fileCreatedAt", "2024-05-01T08:00:00.000Z"),
            text("fileModifiedAt", "2024-05-01T08:00:00.000Z"),
            text("isFavorite", "yes"),
            text("duration", "00:00:05.000"),
            file("assetData", "a.jpg"),
        ];
        let req = request("POST", "/api/assets", RecordedBody::Multipart(fields));
        let errs = Spec::bundled().validate(&req).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
    }

    #[test]
    fn unknown_path_fails() {
        let req = request("GET", "/api/no/such/thing", RecordedBody::Empty);
        assert!(Spec::bundled().validate(&req).is_err());
        let req = request("PATCH", "/api/server/ping", RecordedBody::Empty);
        assert!(Spec::bundled().validate(&req).is_err());
    }

    #[test]
    fn v3_invalid_date_fails() {
        for date in [
            "2024-05-01T10:00:00",
            "2024-05-01 10:00:00Z",
            "2023-02-29T00:00:00Z",
        ] {
            let body = json!({"trashedAfter": date, "withDeleted": true});
            let req = request("POST", "/api/search/metadata", RecordedBody::Json(body));
            assert!(Spec::bundled().validate(&req).is_err(), "{date}");
        }
        let body = json!({"trashedAfter": "2024-05-01T10:00:00.000Z", "withDeleted": true, "size": 1000, "page": 2});
        let req = request("POST", "/api/search/metadata", RecordedBody::Json(body));
        assert_eq!(Spec::bundled().validate(&req), Ok(()));
    }

    #[test]
    fn path_parameters_and_ranges_are_checked() {
        let id = uuid::Uuid::new_v4().to_string();
        let req = request("GET", &format!("/api/assets/{id}"), RecordedBody::Empty);
        assert_eq!(Spec::bundled().validate(&req), Ok(()));
        let req = request("GET", "/api/assets/not-a-uuid", RecordedBody::Empty);
        assert!(Spec::bundled().validate(&req).is_err());
        let req = request("GET", "/api/assets/statistics", RecordedBody::Empty);
        assert_eq!(Spec::bundled().validate(&req), Ok(()));
        let body = json!({"size": 1001});
        let req = request("POST", "/api/search/metadata", RecordedBody::Json(body));
        assert!(Spec::bundled().validate(&req).is_err());
        let body = json!({"ids": [id], "force": "yes"});
        let req = request("DELETE", "/api/assets", RecordedBody::Json(body));
        assert!(Spec::bundled().validate(&req).is_err());
    }

    #[test]
    fn outside_api_and_unread_bodies_pass() {
        let req = request("GET", "/.well-known/immich", RecordedBody::Empty);
        assert_eq!(Spec::bundled().validate(&req), Ok(()));
        let req = request("POST", "/api/assets", RecordedBody::Other(0));
        assert_eq!(Spec::bundled().validate(&req), Ok(()));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
    }
}

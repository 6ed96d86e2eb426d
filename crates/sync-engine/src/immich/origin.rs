//! Addresses: the server URL made canonical, and the origin the API key is confined to.

use super::*;

/// Makes `server_url` canonical: scheme required, no trailing slash, no trailing `/api`.
pub fn normalize_url(raw: &str) -> Result<String, ApiError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let invalid = |reason: &str| ApiError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| invalid("it must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(invalid("it has no host name"));
    }
    let without_api = trimmed.strip_suffix("/api").unwrap_or(trimmed);
    Ok(without_api.to_owned())
}

/// Where Immich's web app shows an asset (`https://photos.example.com/photos/<id>`), for an
/// "Open in Immich" link. `None` for an id that is not one Immich gives (letters, digits and
/// dashes): nothing else is ever put into the address.
pub fn web_url(server_url: &str, asset_id: &str) -> Option<String> {
    let plausible = (1..=64).contains(&asset_id.len())
        && asset_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plausible.then(|| format!("{}/photos/{asset_id}", server_url.trim_end_matches('/')))
}

/// `https://photos.example.com:2283/api` → `photos.example.com:2283`: how a server is named
/// in messages, the tray and the windows.
pub fn host(url: &str) -> &str {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(url)
}

pub(super) fn host_of(url: &str) -> String {
    host(url).to_owned()
}

/// `host:port` without the port (IPv6 literals keep their brackets).
pub(super) fn host_name(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Scheme, host and port of a URL, with the scheme's default port made explicit.
pub(super) fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    let authority = authority.rsplit('@').next()?.to_owned();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let authority = if has_port {
        authority
    } else {
        format!("{authority}{default_port}")
    };
    Some((scheme, authority))
}

pub(super) fn same_origin(a: &str, b: &str) -> bool {
    matches!((origin_of(a), origin_of(b)), (Some(x), Some(y)) if x == y)
}

/// Redirects are followed only to the same host and never from HTTPS down to HTTP, so the
/// `x-api-key` header (which reqwest does not know is secret) is never sent anywhere else.
pub(super) fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let next = attempt.url();
        let same_host = first.host_str() == next.host_str()
            && (first.port_or_known_default() == next.port_or_known_default()
                || (first.scheme() == "http" && next.scheme() == "https"));
        let downgrade = first.scheme() == "https" && next.scheme() != "https";
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same_host && !downgrade {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

#[cfg(test)]
mod web_url_tests {
    #[test]
    fn web_links_name_only_plausible_asset_ids() {
        assert_eq!(
            super::web_url(
                "https://photos.example.com",
                "2f1e5c4a-0b7d-4c1e-9a53-6f0d2b8e7c11"
            )
            .as_deref(),
            Some("https://photos.example.com/photos/2f1e5c4a-0b7d-4c1e-9a53-6f0d2b8e7c11")
        );
        assert_eq!(
            super::web_url("https://p.example/", "abc").as_deref(),
            Some("https://p.example/photos/abc")
        );
        for bad in ["", "../admin", "a?b", "a b", &"a".repeat(65)] {
            assert_eq!(super::web_url("https://p.example", bad), None, "{bad}");
        }
    }
}

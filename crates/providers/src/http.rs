//! The one HTTP client of a provider, and the function through which oauth2 and openidconnect use it.

use std::time::Duration;

use authd_oauth::OAuthError;
use oauth2::basic::BasicErrorResponse;
use oauth2::{HttpRequest, HttpResponse};

/// A provider answer larger than this is refused as malformed rather than read into memory.
const MAX_BODY: usize = 1024 * 1024;

/// Why a provider HTTP exchange failed. Its messages never hold a URL, header or body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("timed out")]
    Timeout,
    #[error("could not connect")]
    Connect,
    #[error("request failed")]
    Request,
    #[error("answered {0}")]
    Status(u16),
    #[error("answer too large")]
    TooLarge,
}

impl From<reqwest::Error> for HttpError {
    fn from(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Timeout
        } else if error.is_connect() {
            Self::Connect
        } else {
            Self::Request
        }
    }
}

/// A client with `timeout` for connecting and for the whole exchange, and no redirects: a token endpoint
/// must not be followed elsewhere. TLS is rustls with aws-lc-rs and the platform's certificate verifier
/// (reqwest's `rustls` feature), chosen per client: nothing is installed process-wide.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("authd")
        .build()
}

/// Sends one request for oauth2/openidconnect (they accept any `Fn(HttpRequest) -> Future`; the client is
/// a cheap handle, owned so the future borrows nothing). A 5xx is an error here, so it is never mistaken
/// for a refusal of the code.
pub(crate) async fn send(
    client: reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, HttpError> {
    let request = reqwest::Request::try_from(request).map_err(|_| HttpError::Request)?;
    let mut response = client.execute(request).await?;
    let status = response.status();
    if status.is_server_error() {
        return Err(HttpError::Status(status.as_u16()));
    }
    let headers = std::mem::take(response.headers_mut());
    let body = read_body(response).await?;
    let mut answer = HttpResponse::new(body);
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    Ok(answer)
}

/// Reads a body, refusing one larger than [`MAX_BODY`].
pub(crate) async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(HttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Unavailable` naming the step, e.g. "token endpoint: timed out".
pub(crate) fn unavailable(step: &str, why: impl std::fmt::Display) -> OAuthError {
    OAuthError::Unavailable(format!("{step}: {why}"))
}

/// A provider's error code (`invalid_grant`) if it looks like one, so a reason never echoes arbitrary
/// provider text (which could quote what was sent).
pub(crate) fn error_code(raw: &str) -> &str {
    let plausible = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plausible { raw } else { "unrecognised error" }
}

/// Maps a failed token request: the provider's `error` answer is a refusal (except its "try later" codes),
/// the rest is unavailability. The exchanged code and verifier never reach the reason.
pub(crate) fn token_error(
    error: oauth2::RequestTokenError<HttpError, BasicErrorResponse>,
) -> OAuthError {
    use oauth2::RequestTokenError as E;
    const STEP: &str = "token endpoint";
    match error {
        E::ServerResponse(answer) => refusal_or_busy(answer.error().as_ref()),
        E::Request(why) => unavailable(STEP, why),
        // GitHub answers a bad code with 200 and an `error` body, which oauth2 fails to read as a token.
        E::Parse(_, body) => match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(answer) => refusal_or_busy(&answer.error),
            Err(_) => unavailable(STEP, "malformed answer"),
        },
        E::Other(_) => unavailable(STEP, "malformed answer"),
    }
}

fn refusal_or_busy(code: &str) -> OAuthError {
    match code {
        "server_error" | "temporarily_unavailable" => {
            unavailable("token endpoint", error_code(code))
        }
        _ => OAuthError::Refused(format!("token endpoint: {}", error_code(code))),
    }
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_echoed_only_when_they_look_like_codes() {
        assert_eq!(error_code("invalid_grant"), "invalid_grant");
        assert_eq!(error_code("bad code abc123 given"), "unrecognised error");
        assert_eq!(error_code(""), "unrecognised error");
    }
}

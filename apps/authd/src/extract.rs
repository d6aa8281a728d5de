//! JSON request bodies with the contract's errors: a malformed body, a missing field, a wrong type or an
//! oversized body is a 400 `invalid_request` whose message names the field but never echoes a value (the
//! value might be a password).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Only used when no state is registered (never in the service itself).
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON body, required.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// A JSON body that may be absent altogether (an empty body reads as `T::default()`).
#[derive(Debug)]
pub struct OptionalJsonBody<T>(pub T);

type BoxedFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let bytes = body(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            if !is_json {
                return Err(not_json());
            }
            parse(&bytes).map(Self)
        })
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = ApiError;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let bytes = body(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Self(T::default()));
            }
            // A body that is not declared JSON could come from a cross-site HTML form (text/plain), which
            // needs no CORS preflight: refusing it stops login CSRF through a body-borne token.
            if !is_json {
                return Err(not_json());
            }
            parse(&bytes).map(Self)
        })
    }
}

fn not_json() -> ApiError {
    ApiError::InvalidRequest("Content-Type must be application/json".into())
}

/// The whole body, within the configured size and time.
fn body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, ApiError>> + use<> {
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map_or(DEFAULT_BODY_TIMEOUT, |state| state.web.body_timeout);
    let bytes = web::Bytes::from_request(req, payload);
    async move {
        match actix_web::rt::time::timeout(timeout, bytes).await {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(_)) => Err(ApiError::InvalidRequest(
                "request body is too large or could not be read".into(),
            )),
            Err(_) => Err(ApiError::RequestTimeout),
        }
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"))
}

/// Parses JSON, describing failures without echoing values.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| ApiError::InvalidRequest("request body is not valid JSON".into()))?;
    // serde would also accept a struct as an array of its fields; the contract speaks of objects only.
    if !value.is_object() {
        return Err(ApiError::InvalidRequest(
            "request body must be a JSON object".into(),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|err| describe(&err))
}

fn describe(err: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let inner = err.inner();
    let message = match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            "request body is not valid JSON".to_owned()
        }
        Category::Data => {
            let detail = without_values(&inner.to_string());
            let path = err.path().to_string();
            if path == "." || detail.starts_with("missing field") {
                detail
            } else {
                format!("field `{path}`: {detail}")
            }
        }
    };
    ApiError::InvalidRequest(message)
}

/// serde's messages quote the offending value between backticks after "invalid type"/"invalid value"; keep
/// only what was expected.
fn without_values(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    if let Some(missing) = message.strip_prefix("missing field ") {
        return format!("missing field {missing}");
    }
    match message.split_once(", expected ") {
        Some((found, expected)) => {
            // "invalid type: string \"secret\"" -> "string"
            let kind = found
                .split(": ")
                .nth(1)
                .and_then(|k| k.split_whitespace().next())
                .unwrap_or("value");
            format!("expected {expected}, found {kind}")
        }
        None if message.starts_with("invalid") => "invalid value".to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "only the parse result matters")]
    struct Login {
        email: String,
        password: String,
    }

    fn message(raw: &str) -> String {
        match parse::<Login>(raw.as_bytes()) {
            Err(ApiError::InvalidRequest(m)) => m,
            other => panic!("expected invalid_request, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(message(r#"{"email":"a@b.c"}"#), "missing field `password`");
    }

    #[test]
    fn a_wrong_type_names_the_field_but_not_the_value() {
        let m = message(r#"{"email":"a@b.c","password":123456789}"#);
        assert_eq!(m, "field `password`: expected a string, found integer");
        assert!(!m.contains("123456789"));
        let m = message(r#"{"email":"a@b.c","password":["hunter2"]}"#);
        assert!(!m.contains("hunter2"), "{m}");
        #[derive(Debug, Deserialize)]
        #[expect(dead_code, reason = "only the parse result matters")]
        struct Numeric {
            code: u32,
        }
        let Err(ApiError::InvalidRequest(m)) = parse::<Numeric>(br#"{"code":"hunter2"}"#) else {
            panic!()
        };
        assert_eq!(m, "field `code`: expected u32, found string");
    }

    #[test]
    fn malformed_json_and_trailing_garbage_are_refused() {
        assert_eq!(message(r#"{"email":"#), "request body is not valid JSON");
        assert_eq!(
            message(r#"{"email":"a","password":"b"} x"#),
            "request body is not valid JSON"
        );
        assert_eq!(message("null"), "request body must be a JSON object");
        assert_eq!(
            message(r#"["a@b.c", "pw"]"#),
            "request body must be a JSON object"
        );
    }
}

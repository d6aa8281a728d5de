//! Who is calling: the access token from `Authorization: Bearer` or the `access_token` cookie, verified and
//! checked against the session store.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use authd_session::Authenticated;

use crate::cookies::ACCESS_COOKIE;
use crate::error::ApiError;
use crate::state::AppState;

/// The access token a request carries, if any: the `Authorization` header wins over the cookie.
pub fn access_token(req: &HttpRequest) -> Option<String> {
    bearer(req)
        .or_else(|| req.cookie(ACCESS_COOKIE).map(|c| c.value().to_owned()))
        .filter(|t| !t.is_empty())
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// A caller with a full session (MFA satisfied or not enrolled). A pending session is refused with
/// `mfa_required`.
#[derive(Debug, Clone, Copy)]
pub struct FullSession(pub Authenticated);

impl FromRequest for FullSession {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = access_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(ApiError::Unauthorized);
            };
            let caller = state.sessions.authenticate(&token).await?;
            if !caller.mfa.is_satisfied() {
                return Err(ApiError::MfaRequired);
            }
            Ok(Self(caller))
        })
    }
}

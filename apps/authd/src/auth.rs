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

/// A caller with a full session in which a factor was proven recently (step-up): what every credential
/// change needs. An older one is refused with `reauth_required`.
#[derive(Debug, Clone, Copy)]
pub struct RecentSession(pub Authenticated);

/// A caller with any live session, pending ones included: only for the endpoints that complete a pending
/// sign-in.
#[derive(Debug, Clone, Copy)]
pub struct AnySession(pub Authenticated);

type CallerFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The session lookup runs in a task of its own: actix drops a handler's other extractors when one fails,
/// and a database query must not be dropped halfway (see `background`).
fn authenticate(req: &HttpRequest) -> CallerFuture<Authenticated> {
    let token = access_token(req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    Box::pin(async move {
        let (Some(token), Some(state)) = (token, state) else {
            return Err(ApiError::Unauthorized);
        };
        let lookup = actix_web::rt::spawn(async move { state.accounts.authenticate(&token).await });
        Ok(lookup.await.map_err(ApiError::internal)??)
    })
}

impl FromRequest for FullSession {
    type Error = ApiError;
    type Future = CallerFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req);
        Box::pin(async move {
            let caller = caller.await?;
            if !caller.mfa.is_satisfied() {
                return Err(ApiError::MfaRequired);
            }
            Ok(Self(caller))
        })
    }
}

impl FromRequest for RecentSession {
    type Error = ApiError;
    type Future = CallerFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = FullSession::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let FullSession(caller) = caller.await?;
            let state = state.ok_or(ApiError::Unauthorized)?;
            state.accounts.ensure_recent(&caller)?;
            Ok(Self(caller))
        })
    }
}

impl FromRequest for AnySession {
    type Error = ApiError;
    type Future = CallerFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req);
        Box::pin(async move { caller.await.map(Self) })
    }
}

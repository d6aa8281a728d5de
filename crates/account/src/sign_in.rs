//! Signing in: a first factor (password, provider, passkey) earns a full session, or a pending one when the
//! user owes a second factor; signing up, refreshing and signing out.

use authd_identity::{IdentityError, Registration, User};
use authd_kernel::{Client, DetailValue, EventKind, Secret, UserId};
use authd_oauth::{Begun, FlowPurpose, OAuthError, ProviderKind, ProviderReply, RedirectPath};
use authd_passkey::PasskeyError;
use authd_session::{PendingTokens, SessionError, SessionTokens, SignInMethod};

use crate::{AccountError, Accounts, Ports};

/// The outcome of a first factor.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in.
    Complete(FullSession),
    /// The user has MFA on: the session waits for a TOTP or recovery code.
    SecondFactorRequired(PendingSession),
}

/// A complete sign-in: who, and their tokens.
#[derive(Debug)]
pub struct FullSession {
    /// The signed-in user.
    pub user: User,
    /// Access and refresh token.
    pub tokens: SessionTokens,
}

/// A sign-in waiting for its second factor.
#[derive(Debug)]
pub struct PendingSession {
    /// Who is signing in.
    pub user: User,
    /// The pending session's one token.
    pub tokens: PendingTokens,
}

/// What a provider flow's callback did.
#[derive(Debug)]
pub enum ProviderCallback {
    /// A sign-in or sign-up (boxed: it carries the user and tokens, the link outcome only ids).
    SignedIn(Box<ProviderSignIn>),
    /// The identity was linked to the account of the (still live) session that began the flow.
    Linked {
        /// Whose account.
        user: UserId,
        /// The path (on the frontend) the flow was begun for.
        redirect_to: RedirectPath,
    },
}

/// A provider sign-in: the session, and where the browser goes next.
#[derive(Debug)]
pub struct ProviderSignIn {
    /// The session it earned.
    pub sign_in: SignIn,
    /// The path (on the frontend) the flow was begun for.
    pub redirect_to: RedirectPath,
    /// Whether the flow created the account.
    pub created: bool,
}

/// How the user proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstFactor {
    Password,
    Provider(ProviderKind),
    /// A passkey the authenticator unlocked with a PIN or biometrics is two factors at once.
    Passkey {
        user_verified: bool,
    },
}

impl FirstFactor {
    const fn method(self) -> SignInMethod {
        match self {
            Self::Password => SignInMethod::Password,
            Self::Provider(ProviderKind::GitHub) => SignInMethod::GitHub,
            Self::Provider(ProviderKind::Google) => SignInMethod::Google,
            Self::Passkey { .. } => SignInMethod::Passkey,
        }
    }
}

impl<P: Ports> Accounts<P> {
    /// Creates the account with its personal workspace and signs it in (it has no MFA yet).
    ///
    /// # Errors
    /// The identity domain's registration errors (email taken, weak password, busy hasher), or storage.
    pub async fn sign_up(
        &self,
        registration: Registration,
        client: &Client,
    ) -> Result<FullSession, AccountError> {
        self.throttle.before_registration(client.ip).await?;
        let user = self.domains.identity.register(registration, client).await?;
        let tokens = self
            .domains
            .sessions
            .start_single_factor(user.id, client, SignInMethod::Password)
            .await?;
        Ok(FullSession { user, tokens })
    }

    /// Signs in with email and password, within the login limits (per client IP, per account).
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], `IdentityError::InvalidCredentials` (wrapped), or storage.
    pub async fn sign_in_with_password(
        &self,
        email: &str,
        password: &Secret,
        client: &Client,
    ) -> Result<SignIn, AccountError> {
        self.admit_login(email, client).await?;
        let user = match self.domains.identity.login(email, password).await {
            Ok(user) => user,
            Err(IdentityError::InvalidCredentials) => {
                self.record_failed_password(email, client).await?;
                return Err(IdentityError::InvalidCredentials.into());
            }
            Err(err) => return Err(err.into()),
        };
        self.throttle.after_login(email).await?;
        self.start_session(user, FirstFactor::Password, client)
            .await
    }

    /// Options for a passkey sign-in, within the per-IP limit on ceremonies begun without signing in.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], a relying-party or storage failure.
    pub async fn begin_passkey_sign_in(&self, client: &Client) -> Result<String, AccountError> {
        self.throttle.before_anonymous_ceremony(client.ip).await?;
        Ok(self.domains.passkeys.begin_login().await?)
    }

    /// Begins a sign-in with a provider, within the per-IP limit on ceremonies begun without signing in.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], the OAuth domain's errors (unknown provider, bad redirect, provider
    /// down), or storage.
    pub async fn begin_provider_sign_in(
        &self,
        provider: ProviderKind,
        redirect_to: Option<&str>,
        client: &Client,
    ) -> Result<Begun, AccountError> {
        self.throttle.before_anonymous_ceremony(client.ip).await?;
        Ok(self
            .domains
            .oauth
            .begin_sign_in(provider, redirect_to)
            .await?)
    }

    /// Signs in with a passkey assertion (usernameless: the credential says whose it is).
    ///
    /// # Errors
    /// The passkey domain's refusals (wrapped), or storage.
    pub async fn sign_in_with_passkey(
        &self,
        assertion_json: &str,
        client: &Client,
    ) -> Result<SignIn, AccountError> {
        let login = self.domains.passkeys.finish_login(assertion_json).await?;
        let user = self
            .domains
            .identity
            .user(login.user_id)
            .await?
            .ok_or_else(|| PasskeyError::Rejected("the passkey's account is gone".into()))?;
        let factor = FirstFactor::Passkey {
            user_verified: login.user_verified,
        };
        self.start_session(user, factor, client).await
    }

    /// Finishes a provider flow from its callback: a sign-in (or sign-up) signs the user in; a link attaches
    /// the identity while the session that began the flow is live, and starts no session.
    ///
    /// # Errors
    /// The OAuth domain's errors (state, refusal, provider down, link conflicts; `InvalidState` for a link
    /// whose session ended), or storage.
    pub async fn complete_provider_flow(
        &self,
        provider: ProviderKind,
        reply: ProviderReply,
        state: &str,
        browser_binding: Option<&str>,
        client: &Client,
    ) -> Result<ProviderCallback, AccountError> {
        let oauth = &self.domains.oauth;
        let flow = oauth.take_flow(provider, state, browser_binding).await?;
        if let FlowPurpose::Link { session, .. } = flow.purpose {
            if !self.domains.sessions.is_live(session).await? {
                return Err(OAuthError::InvalidState.into());
            }
            let done = oauth.finish(flow, reply, state, client).await?;
            return Ok(ProviderCallback::Linked {
                user: done.user.id,
                redirect_to: done.redirect_to,
            });
        }
        let done = oauth.finish(flow, reply, state, client).await?;
        Ok(ProviderCallback::SignedIn(Box::new(ProviderSignIn {
            sign_in: self
                .start_session(done.user, FirstFactor::Provider(provider), client)
                .await?,
            redirect_to: done.redirect_to,
            created: done.created,
        })))
    }

    /// Exchanges a refresh token for a new pair (rotation; a reused token revokes its session).
    ///
    /// # Errors
    /// `SessionError::InvalidRefreshToken` or `RefreshTokenReused` (wrapped), or storage.
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        client: &Client,
    ) -> Result<FullSession, AccountError> {
        let tokens = self.domains.sessions.refresh(refresh_token, client).await?;
        let user = self
            .domains
            .identity
            .user(tokens.user_id)
            .await?
            .ok_or(SessionError::InvalidRefreshToken)?;
        Ok(FullSession { user, tokens })
    }

    /// Ends the session either token names (the access token wins), and the user's link flows and
    /// passkey registrations in flight; nothing to end is fine.
    ///
    /// # Errors
    /// Storage.
    pub async fn sign_out(
        &self,
        access_token: Option<&str>,
        refresh_token: Option<&Secret>,
        client: &Client,
    ) -> Result<(), AccountError> {
        let ended = self
            .domains
            .sessions
            .logout(access_token, refresh_token, client)
            .await?;
        match ended {
            Some(user) => self.forget_ceremonies_of(user).await,
            None => Ok(()),
        }
    }

    /// The session a first factor earns: full when that factor was also a second one or the user has no
    /// MFA, pending otherwise.
    async fn start_session(
        &self,
        user: User,
        factor: FirstFactor,
        client: &Client,
    ) -> Result<SignIn, AccountError> {
        let sessions = &self.domains.sessions;
        if factor
            == (FirstFactor::Passkey {
                user_verified: true,
            })
        {
            let tokens = sessions.start_verified(user.id, client).await?;
            return Ok(SignIn::Complete(FullSession { user, tokens }));
        }
        let method = factor.method();
        if self.domains.mfa.is_enabled(user.id).await? {
            let tokens = sessions.start_pending(user.id, client, method).await?;
            return Ok(SignIn::SecondFactorRequired(PendingSession {
                user,
                tokens,
            }));
        }
        let tokens = sessions
            .start_single_factor(user.id, client, method)
            .await?;
        Ok(SignIn::Complete(FullSession { user, tokens }))
    }

    /// Counts a sign-in attempt against the login limits; the attempt that locks an existing account out
    /// goes in its log.
    pub(crate) async fn admit_login(
        &self,
        email: &str,
        client: &Client,
    ) -> Result<(), AccountError> {
        match self.throttle.before_login(client.ip, email).await {
            Err(AccountError::LockedOut { retry_after }) => {
                if let Some(account) = self.domains.identity.account_by_email(email).await? {
                    self.record(EventKind::LockedOut, account.id, client, &[])
                        .await;
                }
                Err(AccountError::LockedOut { retry_after })
            }
            other => other,
        }
    }

    /// A wrong password for an existing account goes in its log (an unknown email has no log).
    async fn record_failed_password(
        &self,
        email: &str,
        client: &Client,
    ) -> Result<(), AccountError> {
        if let Some(account) = self.domains.identity.account_by_email(email).await? {
            let detail = [("method", DetailValue::Text("password".into()))];
            self.record(EventKind::SignInFailed, account.id, client, &detail)
                .await;
        }
        Ok(())
    }
}

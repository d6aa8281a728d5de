//! The OAuth use cases: begin a sign-in or link, complete it at the callback, unlink, list.

use authd_identity::ports::{LoginMethodRepository, UserRepository};
use authd_identity::{DisplayName, Email, NewWorkspace, User};
use authd_kernel::{
    Client, Clock, EventKind, OpaqueToken, Random, Secret, SecurityEvent, TokenHash, UserId,
    constant_time_eq,
};
use authd_session::SessionId;
use time::Duration;

use crate::ports::{IdentityProvider, OAuthRepository};
use crate::{
    AuthorizationRequest, FlowPurpose, LinkedIdentity, OAuthError, PendingAuthorization,
    ProviderIdentity, ProviderKind, ProviderReply, RedirectPath,
};

/// How flows behave, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthPolicy {
    /// This service's external base URL; callbacks are `<public_url>/auth/<provider>/callback`.
    pub public_url: String,
    /// How long a begun flow may take (default 10 minutes).
    pub state_ttl: Duration,
}

/// A begun flow: where to send the browser, and the value of the browser-binding cookie to set.
#[derive(Debug)]
pub struct Begun {
    /// The provider's authorization URL.
    pub authorize_url: String,
    /// The cookie value binding the flow to this browser.
    pub binding: Secret,
}

/// A completed callback.
#[derive(Debug)]
pub struct Completed {
    /// The account signed in (or the one the identity was linked to).
    pub user: User,
    /// Where to send the browser.
    pub redirect_to: RedirectPath,
    /// Whether the account was created by this callback.
    pub created: bool,
}

/// The OAuth use cases over their ports. `P` is the (one) provider adapter type; the app wraps GitHub and
/// Google in an enum.
#[derive(Debug, Clone)]
pub struct OAuthService<R, P, C, G> {
    repo: R,
    providers: Vec<P>,
    policy: OAuthPolicy,
    clock: C,
    random: G,
}

impl<R, P, C, G> OAuthService<R, P, C, G>
where
    R: OAuthRepository + UserRepository + LoginMethodRepository,
    P: IdentityProvider,
    C: Clock,
    G: Random,
{
    /// Wires the use cases; `providers` are the configured (enabled) ones.
    pub fn new(repo: R, providers: Vec<P>, policy: OAuthPolicy, clock: C, random: G) -> Self {
        Self {
            repo,
            providers,
            policy,
            clock,
            random,
        }
    }

    /// The provider of this kind, if it is configured.
    ///
    /// # Errors
    /// [`OAuthError::UnknownProvider`].
    pub fn provider(&self, kind: ProviderKind) -> Result<&P, OAuthError> {
        self.providers
            .iter()
            .find(|p| p.kind() == kind)
            .ok_or(OAuthError::UnknownProvider)
    }

    /// Begins a sign-in (or sign-up) with the provider.
    ///
    /// # Errors
    /// [`OAuthError::UnknownProvider`], [`OAuthError::InvalidRedirect`], a provider or storage failure.
    pub async fn begin_sign_in(
        &self,
        kind: ProviderKind,
        redirect_to: Option<&str>,
    ) -> Result<Begun, OAuthError> {
        self.begin(kind, redirect_to, FlowPurpose::SignIn).await
    }

    /// Begins linking the provider to the signed-in `user`'s account.
    ///
    /// # Errors
    /// [`OAuthError::UnknownProvider`], [`OAuthError::InvalidRedirect`], a provider or storage failure.
    pub async fn begin_link(
        &self,
        kind: ProviderKind,
        redirect_to: Option<&str>,
        user: UserId,
        session: SessionId,
    ) -> Result<Begun, OAuthError> {
        self.begin(kind, redirect_to, FlowPurpose::Link { user, session })
            .await
    }

    async fn begin(
        &self,
        kind: ProviderKind,
        redirect_to: Option<&str>,
        purpose: FlowPurpose,
    ) -> Result<Begun, OAuthError> {
        let provider = self.provider(kind)?;
        let redirect_to = RedirectPath::parse(redirect_to)?;
        let state = OpaqueToken::generate(&self.random);
        let binding = OpaqueToken::generate(&self.random);
        let request = AuthorizationRequest {
            redirect_uri: self.redirect_uri(kind),
            state: state.secret,
            // 43 base64url characters: within PKCE's alphabet and length (RFC 7636).
            pkce_verifier: OpaqueToken::generate(&self.random).secret,
            nonce: OpaqueToken::generate(&self.random).secret,
        };
        let authorize_url = provider.authorize_url(&request).await?;
        let now = self.clock.now();
        let pending = PendingAuthorization {
            state_hash: state.hash,
            provider: kind,
            binding_hash: binding.hash,
            pkce_verifier: request.pkce_verifier,
            nonce: request.nonce,
            redirect_to,
            purpose,
            created_at: now,
            expires_at: now + self.policy.state_ttl,
        };
        self.repo.save_authorization(&pending).await?;
        Ok(Begun {
            authorize_url,
            binding: binding.secret,
        })
    }

    /// Completes the callback: [`Self::take_flow`], then [`Self::finish`].
    ///
    /// # Errors
    /// Those of both steps.
    pub async fn complete(
        &self,
        kind: ProviderKind,
        reply: ProviderReply,
        state: &str,
        binding: Option<&str>,
        client: &Client,
    ) -> Result<Completed, OAuthError> {
        let flow = self.take_flow(kind, state, binding).await?;
        self.finish(flow, reply, state, client).await
    }

    /// Takes the flow a callback answers: checks the state first (single use, unexpired, this provider,
    /// this browser), whatever else the callback says, so a refusal also spends it.
    ///
    /// # Errors
    /// [`OAuthError::InvalidState`], or a storage failure.
    pub async fn take_flow(
        &self,
        kind: ProviderKind,
        state: &str,
        binding: Option<&str>,
    ) -> Result<PendingAuthorization, OAuthError> {
        self.provider(kind)?;
        self.take_pending(kind, state, binding).await
    }

    /// Exchanges the code of a taken flow and applies the rules of its purpose.
    ///
    /// # Errors
    /// [`OAuthError::Refused`], [`OAuthError::Unavailable`], [`OAuthError::ProviderAlreadyLinked`],
    /// [`OAuthError::NoUsableEmail`], or a storage failure.
    pub async fn finish(
        &self,
        flow: PendingAuthorization,
        reply: ProviderReply,
        state: &str,
        client: &Client,
    ) -> Result<Completed, OAuthError> {
        let kind = flow.provider;
        let provider = self.provider(kind)?;
        let code = match reply {
            ProviderReply::Code(code) => code,
            ProviderReply::Refusal(why) => return Err(OAuthError::Refused(why)),
        };
        let request = AuthorizationRequest {
            redirect_uri: self.redirect_uri(kind),
            state: Secret::new(state),
            pkce_verifier: flow.pkce_verifier.clone(),
            nonce: flow.nonce.clone(),
        };
        let identity = provider.exchange(&code, &request).await?;
        let (user, created) = match flow.purpose {
            FlowPurpose::Link { user, .. } => (self.attach(user, &identity, client).await?, false),
            FlowPurpose::SignIn => self.sign_in(&identity, client).await?,
        };
        Ok(Completed {
            user,
            redirect_to: flow.redirect_to,
            created,
        })
    }

    async fn take_pending(
        &self,
        kind: ProviderKind,
        state: &str,
        binding: Option<&str>,
    ) -> Result<PendingAuthorization, OAuthError> {
        let pending = self
            .repo
            .take_authorization(&TokenHash::of(state))
            .await?
            .ok_or(OAuthError::InvalidState)?;
        let bound = binding.is_some_and(|b| {
            constant_time_eq(
                TokenHash::of(b).as_str().as_bytes(),
                pending.binding_hash.as_str().as_bytes(),
            )
        });
        if pending.provider != kind || !bound || self.clock.now() >= pending.expires_at {
            return Err(OAuthError::InvalidState);
        }
        Ok(pending)
    }

    /// Links the identity to the account, recording `provider_linked` with it.
    async fn link(
        &self,
        user: UserId,
        identity: &ProviderIdentity,
        client: &Client,
    ) -> Result<(), OAuthError> {
        let linked = self
            .event(EventKind::ProviderLinked, user, client)
            .with_text("provider", identity.provider.as_str());
        self.repo
            .link(&self.link_for(user, identity), &linked)
            .await
    }

    fn event(&self, kind: EventKind, user: UserId, client: &Client) -> SecurityEvent {
        SecurityEvent::new(kind, user, client, &self.clock, &self.random)
    }

    /// The link flow: the identity must be free or already this user's.
    async fn attach(
        &self,
        user_id: UserId,
        identity: &ProviderIdentity,
        client: &Client,
    ) -> Result<User, OAuthError> {
        match self
            .repo
            .find_link(identity.provider, &identity.subject)
            .await?
        {
            Some(link) if link.user_id != user_id => return Err(OAuthError::ProviderAlreadyLinked),
            Some(_) => {}
            None => self.link(user_id, identity, client).await?,
        }
        self.repo
            .find_by_id(user_id)
            .await?
            .ok_or(OAuthError::InvalidState)
    }

    /// The sign-in flow: known identity, else verified matching email, else a new account.
    async fn sign_in(
        &self,
        identity: &ProviderIdentity,
        client: &Client,
    ) -> Result<(User, bool), OAuthError> {
        if let Some(link) = self
            .repo
            .find_link(identity.provider, &identity.subject)
            .await?
        {
            let user = self
                .repo
                .find_by_id(link.user_id)
                .await?
                .ok_or(OAuthError::InvalidState)?;
            return Ok((user, false));
        }
        let email = identity
            .email
            .as_deref()
            .and_then(|e| Email::parse(e).ok())
            .ok_or(OAuthError::NoUsableEmail(
                "the provider gave no usable email address",
            ))?;
        match self.repo.find_by_email(&email).await? {
            Some(user) if identity.email_verified => {
                self.link(user.id, identity, client).await?;
                Ok((user, false))
            }
            Some(_) => Err(OAuthError::NoUsableEmail(
                "an account with this email exists and the provider has not verified the address: sign in and link the provider instead",
            )),
            None => Ok((self.create_account(email, identity, client).await?, true)),
        }
    }

    async fn create_account(
        &self,
        email: Email,
        identity: &ProviderIdentity,
        client: &Client,
    ) -> Result<User, OAuthError> {
        let now = self.clock.now();
        let fallback = email
            .as_str()
            .split('@')
            .next()
            .unwrap_or("user")
            .to_owned();
        let name = identity
            .name
            .as_deref()
            .and_then(|n| DisplayName::parse(n).ok())
            .or_else(|| DisplayName::parse(&fallback).ok())
            .ok_or(OAuthError::NoUsableEmail(
                "no usable name for a new account",
            ))?;
        let user = User {
            id: UserId::generate(&self.clock, &self.random),
            email,
            name,
            password_hash: None,
            created_at: now,
            updated_at: now,
        };
        let workspace = NewWorkspace::personal_for(&user, &self.clock, &self.random);
        self.repo
            .create_user_with_link(
                &user,
                &workspace,
                &self.link_for(user.id, identity),
                &self
                    .event(EventKind::SignedUp, user.id, client)
                    .with_text("method", identity.provider.as_str()),
            )
            .await?;
        Ok(user)
    }

    /// Forgets the user's link flows in flight: their sessions ended.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn forget_link_flows(&self, user: UserId) -> Result<(), OAuthError> {
        Ok(self.repo.drop_link_flows_of(user).await?)
    }

    /// Detaches a provider, unless it is the account's last way in.
    ///
    /// # Errors
    /// [`OAuthError::UnknownProvider`], [`OAuthError::NotLinked`], [`OAuthError::LastLoginMethod`], or a
    /// storage failure.
    pub async fn unlink(
        &self,
        user_id: UserId,
        kind: ProviderKind,
        client: &Client,
    ) -> Result<(), OAuthError> {
        let links = self.repo.links_of(user_id).await?;
        if !links.iter().any(|l| l.provider == kind) {
            return Err(OAuthError::NotLinked);
        }
        if self.repo.login_methods(user_id).await?.count() <= 1 {
            return Err(OAuthError::LastLoginMethod);
        }
        let unlinked = self
            .event(EventKind::ProviderUnlinked, user_id, client)
            .with_text("provider", kind.as_str());
        if !self.repo.unlink(user_id, kind, &unlinked).await? {
            return Err(OAuthError::NotLinked);
        }
        Ok(())
    }

    /// The identities linked to an account.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn links(&self, user_id: UserId) -> Result<Vec<LinkedIdentity>, OAuthError> {
        Ok(self.repo.links_of(user_id).await?)
    }

    fn redirect_uri(&self, kind: ProviderKind) -> String {
        format!(
            "{}/auth/{kind}/callback",
            self.policy.public_url.trim_end_matches('/')
        )
    }

    fn link_for(&self, user_id: UserId, identity: &ProviderIdentity) -> LinkedIdentity {
        LinkedIdentity {
            user_id,
            provider: identity.provider,
            subject: identity.subject.clone(),
            email: identity.email.clone(),
            linked_at: self.clock.now(),
        }
    }
}

//! The diesel schema, shared by both backends (see the migrations under `migrations/`).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    workspaces (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    memberships (user_id, workspace_id) {
        user_id -> Text,
        workspace_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        mfa -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        mfa_failures -> Integer,
        authenticated_at -> Timestamp,
        last_used_at -> Timestamp,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        sign_in_method -> Text,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Integer,
        private_key -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rate_limits (bucket) {
        bucket -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    auth_events (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        kind -> Text,
        at -> Timestamp,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> workspaces (workspace_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    workspaces,
    memberships,
    sessions,
    refresh_tokens,
    signing_keys,
    rate_limits,
);

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_outbox (id) {
        id -> Text,
        recipient -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        correlation -> Nullable<Text>,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::joinable!(password_resets -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(password_resets, users);

diesel::table! {
    mfa_factors (user_id) {
        user_id -> Text,
        secret -> Binary,
        state -> Text,
        last_used_step -> Nullable<BigInt>,
        created_at -> Timestamp,
        enabled_at -> Nullable<Timestamp>,
        recovery_codes_generated_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mfa_recovery_codes (user_id, code_hash) {
        user_id -> Text,
        code_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    service_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_authorizations (state_hash) {
        state_hash -> Text,
        provider -> Text,
        binding_hash -> Text,
        pkce_verifier -> Text,
        nonce -> Text,
        redirect_to -> Text,
        link_user_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        link_session_id -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_links (provider, subject) {
        provider -> Text,
        subject -> Text,
        user_id -> Text,
        email -> Nullable<Text>,
        linked_at -> Timestamp,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        user_id -> Text,
        credential_id -> Text,
        name -> Text,
        data -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webauthn_ceremonies (challenge) {
        challenge -> Text,
        kind -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(oauth_links -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, oauth_links, passkeys);

//! Loading: the layers in order of precedence, deserialisation with the failing key named, and the rules
//! that span two keys.

use std::collections::HashMap;
use std::path::Path;

use config::{Config, Environment, File, FileFormat};

use super::{ConfigError, Settings, invalid};

/// The first layer: every default, in the same form as an operator's file.
const DEFAULTS: &str = include_str!("defaults.toml");

impl Settings {
    /// Loads the layers: defaults, the TOML file if given, then `env` (pass `std::env::vars()`).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first offending key.
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let config = layers(file, env)?
            .build()
            .map_err(|e| ConfigError(e.to_string()))?;
        let settings: Self = serde_path_to_error::deserialize(config).map_err(|e| key_named(&e))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The rules a field's type cannot carry: ranges, and pairs of keys that go together.
    fn validate(&self) -> Result<(), ConfigError> {
        self.server.check()?;
        self.password.check()?;
        self.rate_limit.check()?;
        self.smtp.check()?;
        self.oauth.check()?;
        self.passkey.check(self.server.frontend_url.origin())
    }
}

fn layers(
    file: Option<&Path>,
    env: &HashMap<String, String>,
) -> Result<config::ConfigBuilder<config::builder::DefaultState>, ConfigError> {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
    if let Some(path) = file {
        builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
    }
    let authd_env: HashMap<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with("AUTHD__"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    builder = builder.add_source(
        // Values stay strings (no `try_parsing`): a password like "007" must not become the number 7.
        // Typed fields are converted when deserialised; lists accept "a,b".
        Environment::with_prefix("AUTHD")
            .prefix_separator("__")
            .separator("__")
            .source(Some(authd_env.into_iter().collect())),
    );
    if let Some(url) = env
        .get("DATABASE_URL")
        .filter(|_| !env.contains_key("AUTHD__DATABASE__URL"))
    {
        builder = builder
            .set_override("database.url", url.as_str())
            .map_err(|e| ConfigError(e.to_string()))?;
    }
    Ok(builder)
}

/// The deserialisation error with the key it happened at. A section that checks two of its keys together
/// (the signing key and its id) has named the key itself, and its error path ends at the section.
fn key_named(err: &serde_path_to_error::Error<config::ConfigError>) -> ConfigError {
    let problem = problem(err.inner());
    if problem.starts_with('`') {
        ConfigError(problem)
    } else {
        invalid(&err.path().to_string(), problem)
    }
}

/// What is wrong, without the key and source the `config` crate appends: the key is named in front.
fn problem(err: &config::ConfigError) -> String {
    match err {
        config::ConfigError::At { error, .. } => problem(error),
        config::ConfigError::Type {
            unexpected,
            expected,
            ..
        } => format!("invalid type: {unexpected}, expected {expected}"),
        other => other.to_string(),
    }
}

//! `authd`: serve the API (the default) or apply migrations.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use authd::config::Settings;
use authd::{startup, telemetry};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "authd", version, about = "Authentication service")]
struct Cli {
    /// TOML configuration file (also AUTHD_CONFIG); environment variables override it.
    #[arg(long, env = "AUTHD_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    let env: HashMap<String, String> = std::env::vars().collect();
    let settings = match Settings::load(cli.config.as_deref(), &env) {
        Ok(settings) => settings,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("authd: {err}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(settings).await,
        Command::Migrate => startup::migrate(&settings).await.map(|applied| {
            tracing::info!(applied, "migrations applied");
        }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("authd: {err}");
            ExitCode::FAILURE
        }
    }
}

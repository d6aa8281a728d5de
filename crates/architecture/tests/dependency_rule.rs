//! The dependency rule, over `cargo metadata`: the domain and application crates depend on no infrastructure
//! (web framework, async runtime, database driver, HTTP client, mailer, configuration loader), neither directly
//! nor through another crate, and on no adapter or app of this workspace. Dev-dependencies are free.
//!
//! The test fails closed: a cargo failure, an unreadable answer or a missing crate is a failure, never a pass.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;

/// The folders under `crates/` that hold domain or application crates. A package found in one of them is
/// checked whatever it is called, so a crate added there (such as `account`) is covered from its first commit.
const LAYERED_DIRS: [&str; 7] = [
    "kernel", "identity", "session", "mfa", "oauth", "passkey", "account",
];

/// The crates that must be found: the rule cannot pass by finding nothing to check.
const REQUIRED: [&str; 7] = [
    "authd-account",
    "authd-kernel",
    "authd-identity",
    "authd-session",
    "authd-mfa",
    "authd-oauth",
    "authd-passkey",
];

/// Infrastructure, by package name. `actix` also stands for every `actix-*` package (actix-web, actix-rt, ...).
const FORBIDDEN: [&str; 8] = [
    "actix",
    "tokio",
    "diesel",
    "diesel-async",
    "reqwest",
    "hyper",
    "mail-send",
    "config",
];

/// The part of `cargo metadata --format-version 1` this test reads; a field that went missing fails the parse.
#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    workspace_root: PathBuf,
    resolve: Option<Resolve>,
}

#[derive(Debug, Deserialize)]
struct Package {
    id: String,
    name: String,
    manifest_path: PathBuf,
}

#[derive(Debug, Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Debug, Deserialize)]
struct NodeDep {
    pkg: String,
    dep_kinds: Vec<DepKind>,
}

#[derive(Debug, Deserialize)]
struct DepKind {
    /// `None` for a normal dependency, `"dev"` or `"build"` otherwise.
    kind: Option<String>,
}

/// The workspace as the tests see it: package names, the normal-dependency edges, and which packages are layered.
#[derive(Debug)]
struct Workspace {
    names: HashMap<String, String>,
    normal_deps: HashMap<String, Vec<String>>,
    members: HashSet<String>,
    layered: Vec<String>,
}

fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(|| Workspace::from(cargo_metadata()))
}

fn cargo_metadata() -> Metadata {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata could not be run");
    assert!(
        output.status.success(),
        "cargo metadata failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata's answer could not be read")
}

impl From<Metadata> for Workspace {
    fn from(metadata: Metadata) -> Self {
        let resolve = metadata
            .resolve
            .expect("cargo metadata resolved no dependency graph");
        let members: HashSet<String> = metadata.workspace_members.into_iter().collect();
        let layered = metadata
            .packages
            .iter()
            .filter(|p| members.contains(&p.id) && is_layered(&metadata.workspace_root, p))
            .map(|p| p.id.clone())
            .collect();
        let names = metadata
            .packages
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let normal_deps = resolve
            .nodes
            .into_iter()
            .map(|node| (node.id, normal_dependencies(node.deps)))
            .collect();
        Self {
            names,
            normal_deps,
            members,
            layered,
        }
    }
}

fn is_layered(workspace_root: &Path, package: &Package) -> bool {
    LAYERED_DIRS.iter().any(|dir| {
        package.manifest_path == workspace_root.join("crates").join(dir).join("Cargo.toml")
    })
}

/// A dependency that is normal for any target counts: it is linked into the crate somewhere.
fn normal_dependencies(deps: Vec<NodeDep>) -> Vec<String> {
    deps.into_iter()
        .filter(|dep| dep.dep_kinds.iter().any(|k| k.kind.is_none()))
        .map(|dep| dep.pkg)
        .collect()
}

impl Workspace {
    fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.names.get(id).map_or(id, String::as_str)
    }

    fn layered_names(&self) -> HashSet<&str> {
        self.layered.iter().map(|id| self.name(id)).collect()
    }

    /// Every package `root` links, each with one chain of normal dependencies that leads to it (breadth
    /// first, so the chain is a shortest one).
    fn reachable_from(&self, root: &str) -> Vec<(String, Vec<String>)> {
        let mut parent: HashMap<&str, &str> = HashMap::new();
        let mut queue = VecDeque::from([root]);
        let mut found = Vec::new();
        while let Some(id) = queue.pop_front() {
            for dep in self.normal_deps.get(id).into_iter().flatten() {
                if dep != root && !parent.contains_key(dep.as_str()) {
                    parent.insert(dep, id);
                    queue.push_back(dep);
                    found.push((dep.clone(), self.chain(&parent, dep)));
                }
            }
        }
        found
    }

    fn chain(&self, parent: &HashMap<&str, &str>, to: &str) -> Vec<String> {
        let mut chain = vec![self.name(to).to_owned()];
        let mut at = to;
        while let Some(&up) = parent.get(at) {
            chain.push(self.name(up).to_owned());
            at = up;
        }
        chain.reverse();
        chain
    }

    /// Each dependency of a layered crate that `breaks` the rule, written as the chain that leads to it.
    fn violations(&self, breaks: impl Fn(&Self, &str) -> bool) -> Vec<String> {
        self.layered
            .iter()
            .flat_map(|root| self.reachable_from(root))
            .filter(|(id, _)| breaks(self, id))
            .map(|(_, chain)| chain.join(" -> "))
            .collect()
    }
}

fn is_infrastructure(name: &str) -> bool {
    FORBIDDEN.contains(&name) || name.starts_with("actix-")
}

#[test]
fn every_domain_crate_is_found_in_its_folder() {
    let layered = workspace().layered_names();
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|name| !layered.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "no package under crates/{{{}}} is named {missing:?}; found {layered:?}",
        LAYERED_DIRS.join(",")
    );
}

#[test]
fn domain_and_application_crates_depend_on_no_infrastructure() {
    let violations = workspace().violations(|ws, id| is_infrastructure(ws.name(id)));
    assert!(
        violations.is_empty(),
        "domain and application crates must not depend on infrastructure (dev-dependencies are fine):\n  {}",
        violations.join("\n  ")
    );
}

#[test]
fn domain_and_application_crates_depend_on_no_adapter_or_app() {
    let layered: HashSet<&str> = workspace().layered.iter().map(String::as_str).collect();
    let violations =
        workspace().violations(|ws, id| ws.members.contains(id) && !layered.contains(id));
    assert!(
        violations.is_empty(),
        "domain and application crates may depend only on each other among this workspace's crates:\n  {}",
        violations.join("\n  ")
    );
}

#[test]
fn infrastructure_is_recognised_by_name() {
    for name in [
        "tokio",
        "actix-web",
        "actix-rt",
        "diesel-async",
        "mail-send",
        "config",
    ] {
        assert!(is_infrastructure(name), "{name}");
    }
    for name in ["serde", "time", "biscuit-auth", "hyperloglog"] {
        assert!(!is_infrastructure(name), "{name}");
    }
}

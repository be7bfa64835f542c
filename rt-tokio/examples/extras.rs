//! The `extras` example application (see `corelay-example-apps`) on tokio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::extras::<corelay_tokio::Tokio>()
}

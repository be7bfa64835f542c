//! The `api` example application (see `corelay-example-apps`) on monoio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::api::<corelay_monoio::Monoio>()
}

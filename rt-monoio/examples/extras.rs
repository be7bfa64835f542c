//! The `extras` example application (see `corelay-example-apps`) on monoio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::extras::<corelay_monoio::Monoio>()
}

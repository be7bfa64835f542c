//! The `bench` example application (see `corelay-example-apps`) on monoio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::bench::<corelay_monoio::Monoio>()
}

//! The `bench` example application (see `corelay-example-apps`) on glommio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::bench::<corelay_glommio::Glommio>()
}

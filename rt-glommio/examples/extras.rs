//! The `extras` example application (see `corelay-example-apps`) on glommio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::extras::<corelay_glommio::Glommio>()
}

//! The `echo` example application (see `corelay-examples`) on glommio.

fn main() {
    let flags = corelay_examples::Flags::parse();
    let app = corelay_examples::echo(&flags);
    corelay_glommio::serve_example(
        app,
        flags.addr(),
        flags.shards,
        corelay_examples::announce_and_wait,
    );
}

//! The `echo` example application (see `corelay-examples`) on monoio.

fn main() {
    let flags = corelay_examples::Flags::parse();
    let app = corelay_examples::echo(&flags);
    corelay_monoio::serve_example(
        app,
        flags.addr(),
        flags.shards,
        corelay_examples::announce_and_wait,
    );
}

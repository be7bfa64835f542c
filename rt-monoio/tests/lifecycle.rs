//! What only monoio has: the choice of I/O driver, and its report.

use corelay_monoio::{App, Driver, DriverExt, Server};

/// Whether this kernel lets a process set up an io_uring (asked of the kernel directly,
/// not of monoio).
fn io_uring_works() -> bool {
    io_uring::IoUring::new(8).is_ok()
}

fn start(driver: Driver) -> std::io::Result<corelay_monoio::RunningServer> {
    Server::builder(App::builder().build())
        .bind("127.0.0.1:0".parse().unwrap())
        .shards(2)
        .driver(driver)
        .start()
}

#[test]
fn auto_runs_on_io_uring_wherever_it_works() {
    let server = start(Driver::Auto).unwrap();
    let expected = if io_uring_works() {
        "io_uring"
    } else {
        "epoll"
    };
    assert_eq!(server.io_driver(), expected);
    corelay_rt::conformance::handshake(server.local_addr());
    server.shutdown();
    server.wait().unwrap();
}

#[test]
fn legacy_runs_on_epoll() {
    let server = start(Driver::Legacy).unwrap();
    assert_eq!(server.io_driver(), "epoll");
    corelay_rt::conformance::handshake(server.local_addr());
    server.shutdown();
    server.wait().unwrap();
}

#[test]
fn io_uring_starts_or_says_why() {
    match start(Driver::IoUring) {
        Ok(server) => {
            assert_eq!(server.io_driver(), "io_uring");
            server.shutdown();
            server.wait().unwrap();
        }
        Err(e) => {
            assert!(!io_uring_works(), "io_uring works here, yet: {e}");
            assert!(e.to_string().contains("io_uring"), "{e}");
        }
    }
}

/// The driver's checks on epoll too (`tests/driver.rs` runs them on the default driver).
mod on_epoll {
    use corelay_monoio::{Driver, Monoio, Options};

    corelay_rt::conformance_tests!(
        Monoio,
        Options {
            driver: Driver::Legacy
        }
    );
}

//! End-to-end tests of the engine on temporary directories.

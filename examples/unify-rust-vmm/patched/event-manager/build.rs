fn main() {
    build_patch::build();
}

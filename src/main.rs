fn main() {
    std::process::exit(phase4_check::run());
}

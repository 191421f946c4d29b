fn main() {
    std::process::exit(shapefuzz::cli::main());
}

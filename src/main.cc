#include "cmd/cli.h"

int main(int argc, char** argv) { return nohype::cmd::main(argc, argv); }

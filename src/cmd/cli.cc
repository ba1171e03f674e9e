#include "cmd/cli.h"

namespace nohype::cmd {
int main(int, char**) { return 1; }
}

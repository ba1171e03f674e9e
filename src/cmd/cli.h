// Entry point of the nohype command line: global flags, then one verb.
#pragma once

namespace nohype::cmd {
int main(int argc, char** argv);
}

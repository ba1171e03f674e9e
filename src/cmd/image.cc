// nohype image unpack|inspect: OCI images outside `up` (image/).
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cmd/verb.h"
#include "common/error.h"
#include "image/source.h"
#include "image/store.h"
#include "image/unpack.h"

namespace nohype::cmd {

namespace {

std::string cwd() {
  char buf[4096];
  return getcwd(buf, sizeof buf) ? buf : ".";
}

}  // namespace

Verb verb_image_unpack() {
  return {"image unpack",
          "SOURCE DIR",
          "unpack an image (oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, containers-storage:REF) into a new "
          "directory, checking every blob's digest",
          {},
          [](const Parsed& p, const Globals&) {
            image::ScratchDir w("work");
            auto img = image::open_image(image::parse_reference(p.args[0], cwd()), p.args[0], w.path());
            std::string dest = p.args[1];
            if (std::filesystem::exists(dest)) fail("image", dest + " exists: unpack makes a new directory");
            try {
              image::unpack_layers(img, dest);
            } catch (...) {
              std::error_code ec;
              std::filesystem::remove_all(dest, ec);  // nothing half-made is left
              throw;
            }
            std::printf("%s: %zu layers unpacked into %s (%s)\n", p.args[0].c_str(), img.layers.size(), dest.c_str(),
                        img.id.c_str());
            return 0;
          },
          2,
          2};
}

Verb verb_image_inspect() {
  return {"image inspect",
          "SOURCE",
          "print an image's id, layers and run settings (its digests are checked)",
          {},
          [](const Parsed& p, const Globals&) {
            image::ScratchDir w("work");
            auto img = image::open_image(image::parse_reference(p.args[0], cwd()), p.args[0], w.path());
            nlohmann::json layers = nlohmann::json::array();
            for (const auto& l : img.layers) layers.push_back(l.digest);
            nlohmann::json c = img.config.value("config", nlohmann::json::object());
            nlohmann::json out = {{"source", p.args[0]}, {"id", img.id}, {"layers", layers}};
            for (const char* k : {"Entrypoint", "Cmd", "Env", "User", "WorkingDir"})
              if (c.contains(k)) out[k] = c[k];
            print_json(out.dump(2));
            return 0;
          },
          1,
          1};
}

}  // namespace nohype::cmd

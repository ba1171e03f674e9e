// nohype image unpack|inspect|sign|verify|events: OCI images outside `up` (image/, trust/).
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cmd/verb.h"
#include "common/error.h"
#include "common/file.h"
#include "image/source.h"
#include "image/store.h"
#include "image/unpack.h"
#include "image/verify.h"
#include "trust/minisign.h"

namespace nohype::cmd {

namespace {

std::string cwd() {
  char buf[4096];
  return getcwd(buf, sizeof buf) ? buf : ".";
}

struct Opened {
  image::Reference ref;
  image::Image img;
};

Opened open_source(const std::string& source, const std::string& work) {
  Opened o;
  o.ref = image::parse_reference(source, cwd());
  if (o.ref.kind == image::Kind::directory) fail("image", source + ": a rootfs directory is not an image");
  o.img = image::open_image(o.ref, source, work);
  return o;
}

std::string trimmed_file(const std::string& path) {
  std::string s = read_file(path, "image");
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Verb verb_image_sign() {
  return {"image sign",
          "--key SECRET-KEY SOURCE",
          "sign an image's manifest with a minisign key; writes SOURCE-PATH.minisig",
          {{{"key"}, true, "a minisign secret key (minisign -G)", "FILE"},
           {{"password-file"}, true, "the key's password, for a key made without -W", "FILE"},
           {{"comment"}, true, "the signed (trusted) comment; default: the image's digest", "TEXT"}},
          [](const Parsed& p, const Globals&) {
            if (p.get("key", "").empty()) fail("image sign", "--key is required");
            image::ScratchDir w("work");
            auto o = open_source(p.args[0], w.path());
            std::string out = image::minisig_path(o.ref);
            if (out.empty()) fail("image sign", p.args[0] + ": only path sources carry a minisign signature");
            std::string pw = p.get("password-file", "").empty() ? "" : trimmed_file(p.get("password-file", ""));
            auto key =
                trust::parse_minisign_secret_key(read_file(p.get("key", ""), "image sign"), pw, p.get("key", ""));
            std::string comment = p.get("comment", "nohype image " + o.img.id);
            std::string sig = trust::minisign_sign(key, o.img.manifest, comment, "nohype image signature");
            write_file_atomic(out, sig, "image sign", 0644);
            std::printf("%s: signed %s into %s\n", p.args[0].c_str(), o.img.id.c_str(), out.c_str());
            return 0;
          },
          1,
          1};
}

Verb verb_image_verify() {
  return {"image verify",
          "[--key PUBLIC-KEY] SOURCE",
          "check an image against the trust policy (or, with --key, its minisign signature alone)",
          {{{"key"}, true, "a minisign public key: check SOURCE-PATH.minisig with it", "FILE"}},
          [](const Parsed& p, const Globals&) {
            image::ScratchDir w("work");
            auto o = open_source(p.args[0], w.path());
            if (!p.get("key", "").empty()) {
              std::string sigfile = image::minisig_path(o.ref);
              if (sigfile.empty() || !path_exists(sigfile)) fail("image verify", p.args[0] + ": no " + sigfile);
              auto key =
                  trust::parse_minisign_public_key(read_file(p.get("key", ""), "image verify"), p.get("key", ""));
              auto v = trust::minisign_verify(key, o.img.manifest, read_file(sigfile, "image verify"));
              if (!v.ok) fail("image verify", p.args[0] + ": " + sigfile + ": " + v.reason);
              std::printf("%s: %s signed by minisign key %s (trusted comment: %s)\n", p.args[0].c_str(),
                          o.img.id.c_str(), key.id().c_str(), v.trusted_comment.c_str());
              return 0;
            }
            auto v = trust::evaluate(trust::load_policy(), trust::load_revocations(), image::subject_of(o.ref, o.img));
            std::printf("%s\n", v.line().c_str());
            return v.accepted ? 0 : 1;
          },
          1,
          1};
}

Verb verb_image_events() {
  return {"image events",
          "",
          "print the images refused on this host, one JSON object per line",
          {},
          [](const Parsed&, const Globals&) {
            for (const auto& e : image::read_image_events()) print_json(e.dump());
            return 0;
          },
          0,
          0};
}

Verb verb_image_unpack() {
  return {"image unpack",
          "SOURCE DIR",
          "unpack an image (oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, dir:DIR, containers-storage:REF) "
          "into a new directory, if the trust policy accepts it, checking every blob's digest",
          {},
          [](const Parsed& p, const Globals&) {
            image::ScratchDir w("work");
            auto [ref, img] = open_source(p.args[0], w.path());
            image::enforce_policy(ref, img);
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
            auto img = open_source(p.args[0], w.path()).img;
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

// SPDX-License-Identifier: Apache-2.0
#include <unioncard/base/paths.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <system_error>

namespace unioncard::base {
namespace fs = std::filesystem;

namespace {

fs::path fromEnvironment(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? fs::path(value) : fs::path();
}

// PREFIX/share/unioncard/firmware-config for the running PREFIX/bin/PROGRAM.
fs::path installedFirmwareConfig() {
    std::error_code error;
    const fs::path self = fs::read_symlink("/proc/self/exe", error);
    if (error)
        return {};
    return (self.parent_path() / UNIONCARD_DATADIR_FROM_BINDIR / "firmware-config")
        .lexically_normal();
}

} // namespace

fs::path firmwareConfigDir() {
    if (fs::path dir = fromEnvironment("UNIONCARD_FIRMWARE_CONFIG"); !dir.empty())
        return dir;
    const fs::path installed = installedFirmwareConfig();
    std::error_code error;
    if (!installed.empty() && fs::is_directory(installed, error))
        return installed;
#ifdef UNIONCARD_SOURCE_FIRMWARE_CONFIG
    return UNIONCARD_SOURCE_FIRMWARE_CONFIG;
#else
    return installed;
#endif
}

std::optional<std::string> credential(std::string_view name) {
    const fs::path dir = fromEnvironment("CREDENTIALS_DIRECTORY");
    if (dir.empty() || name.empty() || name.find('/') != std::string_view::npos)
        return std::nullopt;
    std::ifstream in(dir / name, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
        value.pop_back();
    return value;
}

std::optional<std::string> secret(std::string_view name,
                                  std::initializer_list<const char*> variables) {
    if (auto value = credential(name))
        return value;
    for (const char* variable : variables) {
        if (const char* value = std::getenv(variable); value != nullptr && *value != '\0')
            return std::string(value);
    }
    return std::nullopt;
}

fs::path configDir() {
    if (fs::path dir = fromEnvironment("UNIONCARD_CONFIG_DIR"); !dir.empty())
        return dir;
    return UNIONCARD_SYSCONFDIR;
}

} // namespace unioncard::base

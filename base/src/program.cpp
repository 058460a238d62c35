// SPDX-License-Identifier: Apache-2.0
#include <unioncard/base/paths.hpp>
#include <unioncard/base/program.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <toml++/toml.h>
#include <vector>

namespace unioncard::base {

namespace {

constexpr int kUsage = 2;

// What a value of the file must be to suit an option.
enum class Wants { Flag, Integer, Number, Text };

Wants wants(const CLI::Option& option) {
    if (option.get_expected_max() == 0)
        return Wants::Flag;
    const std::string type = option.get_type_name();
    auto startsWith = [&type](std::string_view prefix) {
        return type.rfind(prefix, 0) == 0;
    };
    if (startsWith("INT") || startsWith("UINT"))
        return Wants::Integer;
    if (startsWith("FLOAT"))
        return Wants::Number;
    return Wants::Text;
}

const char* describe(Wants w) {
    switch (w) {
    case Wants::Flag:
        return "true or false";
    case Wants::Integer:
        return "a whole number";
    case Wants::Number:
        return "a number";
    case Wants::Text:
        return "a string in quotes";
    }
    return "";
}

CLI::Option* optionOf(const CLI::App& app, const std::string& key) {
    const CLI::Option* option = nullptr;
    try {
        option = app.get_option("--" + key);
    } catch (const CLI::OptionNotFound&) {
        return nullptr;
    }
    return const_cast<CLI::Option*>(option);
}

// The commands of app, at any depth, that have the option --key, with the path to each.
void commandsWith(const CLI::App& app, const std::string& key, std::vector<std::string>& path,
                  std::vector<std::vector<std::string>>& found) {
    for (const CLI::App* sub : app.get_subcommands({})) {
        path.push_back(sub->get_name());
        if (optionOf(*sub, key) != nullptr)
            found.push_back(path);
        commandsWith(*sub, key, path, found);
        path.pop_back();
    }
}

// A TOML file as CLI11's configuration items, checked against the program's options first, so
// that what is wrong is named with its line, and nothing of a wrong file is taken.
class TomlConfig final : public CLI::Config {
public:
    TomlConfig(const CLI::App& app, ConfigFile config)
        : app_(app), section_(config.section), skipped_(config.skipped) {}

    std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }

    std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
        file_ = app_.get_config_ptr()->as<std::string>();
        lines_.clear();
        std::stringstream text;
        text << in.rdbuf();
        toml::table root;
        try {
            root = toml::parse(text.str(), file_);
        } catch (const toml::parse_error& e) {
            throw CLI::ConfigError(
                fmt::format("{}:{}: {}", file_, e.source().begin.line, e.description()));
        }
        std::vector<CLI::ConfigItem> items;
        std::vector<std::string> parents;
        walk(app_, root, parents, items);
        if (!section_.empty()) {
            if (const toml::table* own = root[section_].as_table())
                walk(app_, *own, parents, items);
        }
        return items;
    }

    /// The message, with where in the file a value it names came from.
    std::string located(const std::string& message) const {
        for (const auto& [option, line] : lines_) {
            if (message.find(option) != std::string::npos)
                return fmt::format("{} ({}:{}, key '{}')", message, file_, line, option.substr(2));
        }
        return message;
    }

    const std::string& file() const { return file_; }

private:
    void walk(const CLI::App& app, const toml::table& table, std::vector<std::string>& parents,
              std::vector<CLI::ConfigItem>& items) const {
        for (const auto& [name, node] : table) {
            const std::string key(name.str());
            const auto line = node.source().begin.line;
            if (const toml::table* section = node.as_table()) {
                // The program's own table was read above; at the top, the others are the
                // tables of the program that shares the file.
                if (parents.empty() && (!section_.empty() || key == skipped_))
                    continue;
                const CLI::App* sub = nullptr;
                try {
                    sub = app.get_subcommand(key);
                } catch (const CLI::OptionNotFound&) {
                }
                if (sub == nullptr) {
                    throw CLI::ConfigError(
                        fmt::format("{}:{}: unknown section [{}]: {} has no command '{}'", file_,
                                    line, key, app.get_name(), key));
                }
                parents.push_back(key);
                walk(*sub, *section, parents, items);
                parents.pop_back();
                continue;
            }
            std::vector<std::vector<std::string>> targets;
            CLI::Option* option = optionOf(app, key);
            if (option != nullptr) {
                targets.push_back(parents);
            } else if (parents.empty()) {
                std::vector<std::string> path;
                commandsWith(app, key, path, targets);
                if (!targets.empty()) {
                    const CLI::App* owner = &app;
                    for (const std::string& step : targets.front())
                        owner = owner->get_subcommand(step);
                    option = optionOf(*owner, key);
                }
            }
            if (option == nullptr || !option->get_configurable()) {
                throw CLI::ConfigError(fmt::format(
                    "{}:{}: unknown key '{}': {} has no option --{}{}", file_, line, key,
                    app.get_name(), key,
                    parents.empty() ? "" : fmt::format(" (in [{}])", fmt::join(parents, "."))));
            }
            std::vector<std::string> inputs = valuesFor(*option, key, node, line);
            lines_.emplace("--" + key, static_cast<int>(line));
            if (const std::string& variable = option->get_envname();
                !variable.empty() && std::getenv(variable.c_str()) != nullptr)
                continue; // the environment's value stands
            for (const std::vector<std::string>& target : targets) {
                CLI::ConfigItem item;
                item.parents = target;
                item.name = key;
                item.inputs = inputs;
                items.push_back(std::move(item));
            }
        }
    }

    std::vector<std::string> valuesFor(const CLI::Option& option, const std::string& key,
                                       const toml::node& node, std::size_t line) const {
        const Wants w = wants(option);
        auto wrong = [&](std::string_view got) {
            return CLI::ConfigError(fmt::format("{}:{}: key '{}' must be {}, not {}", file_, line,
                                                key, describe(w), got));
        };
        auto scalar = [&](const toml::node& value) -> std::string {
            if (auto b = value.value_exact<bool>()) {
                if (w != Wants::Flag)
                    throw wrong(*b ? "true" : "false");
                return *b ? "true" : "false";
            }
            if (auto i = value.value_exact<std::int64_t>()) {
                if (w != Wants::Integer && w != Wants::Number)
                    throw wrong(fmt::format("the number {}", *i));
                return std::to_string(*i);
            }
            if (auto d = value.value_exact<double>()) {
                if (w != Wants::Number)
                    throw wrong(fmt::format("the number {}", *d));
                return fmt::format("{}", *d);
            }
            if (auto s = value.value_exact<std::string>()) {
                if (w != Wants::Text)
                    throw wrong(fmt::format("the string \"{}\"", *s));
                return *s;
            }
            throw wrong("a date, a time or a nested value");
        };
        if (const toml::array* array = node.as_array()) {
            if (option.get_items_expected_max() <= 1)
                throw wrong("a list");
            std::vector<std::string> inputs;
            for (const toml::node& element : *array)
                inputs.push_back(scalar(element));
            return inputs;
        }
        return {scalar(node)};
    }

    const CLI::App& app_;
    std::string section_;
    std::string skipped_;
    mutable std::string file_;
    mutable std::map<std::string, int> lines_; ///< "--key" -> its line in the file
};

bool givenOnCommandLine(int argc, const char* const* argv, std::string_view flag) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == flag || (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
                            arg[flag.size()] == '='))
            return true;
    }
    return false;
}

} // namespace

std::string versionLine(std::string_view program) {
    return fmt::format("{} {}", program, UNIONCARD_VERSION);
}

void conventions(CLI::App& app, std::string_view program, ConfigFile config) {
    app.name(std::string(program));
    app.set_version_flag("--version", versionLine(program), "print the version and exit");
    if (!config.name.empty()) {
        app.set_config("--config", (configDir() / config.name).string(),
                       "the configuration file; its values are taken for options not given");
        app.config_formatter(std::make_shared<TomlConfig>(app, config));
    }
}

std::optional<int> parseCommandLine(CLI::App& app, int argc, const char* const* argv) {
    const auto config = std::dynamic_pointer_cast<TomlConfig>(app.get_config_formatter());
    if (config != nullptr && !givenOnCommandLine(argc, argv, "--config")) {
        // A file that is there but cannot be read is no file to skip: the program would start
        // half-configured.
        const std::string file = app.get_config_ptr()->as<std::string>();
        std::error_code error;
        if (std::filesystem::exists(file, error) &&
            (!std::filesystem::is_regular_file(file, error) || !std::ifstream(file).good())) {
            std::cerr << app.get_name() << ": cannot read the configuration file " << file
                      << " (not a readable file)\n";
            return kUsage;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::RequiredError& e) {
        // CLI11 checks what is required before what is not expected; a mistyped flag is the
        // more useful thing to name.
        if (const std::vector<std::string> extra = app.remaining(true); !extra.empty()) {
            std::cerr << app.get_name() << ": unknown argument " << extra.front()
                      << " (see --help)\n";
            return kUsage;
        }
        std::string message = e.what();
        if (config != nullptr && message.find("--") != std::string::npos) {
            const std::string file = app.get_config_ptr()->as<std::string>();
            message += fmt::format(" (on the command line, or as a key of {})", file);
        }
        std::cerr << app.get_name() << ": " << message << "\n";
        return kUsage;
    } catch (const CLI::ParseError& e) {
        const std::string message = config != nullptr ? config->located(e.what()) : e.what();
        std::cerr << app.get_name() << ": " << message << "\n";
        return kUsage;
    }
    return std::nullopt;
}

} // namespace unioncard::base

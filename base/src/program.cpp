// SPDX-License-Identifier: Apache-2.0
#include <unioncard/base/paths.hpp>
#include <unioncard/base/program.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
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

const CLI::App* commandOf(const CLI::App& app, const std::string& name) {
    try {
        return app.get_subcommand(name);
    } catch (const CLI::OptionNotFound&) {
        return nullptr;
    }
}

// A double as TOML wrote it: 3.0 is "3.0", not the whole number 3.
std::string asWritten(double d) {
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15)
        return fmt::format("{:.1f}", d);
    return fmt::format("{}", d);
}

// A TOML file as CLI11's configuration items, checked against the program's options first, so
// that what is wrong is named with its line, and nothing of a wrong file is taken.
class TomlConfig final : public CLI::Config {
public:
    TomlConfig(const CLI::App& app, ConfigFile config) : app_(app), config_(std::move(config)) {}

    std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }

    std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
        file_ = app_.get_config_ptr()->as<std::string>();
        lines_.clear();
        if (ignored_)
            return {};
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
        readTop(root, items);
        if (!config_.section.empty()) {
            if (const toml::table* own = root[config_.section].as_table()) {
                // The program's own table wins over the top level: CLI11 takes the first value
                // of an option, so the top's go.
                std::vector<CLI::ConfigItem> mine;
                readKeys(app_, *own, {}, mine, true);
                std::erase_if(items, [&mine](const CLI::ConfigItem& top) {
                    return std::any_of(mine.begin(), mine.end(), [&top](const auto& m) {
                        return m.name == top.name && m.parents == top.parents;
                    });
                });
                items.insert(items.begin(), mine.begin(), mine.end());
            }
        }
        return items;
    }

    /// The message, with where in the file a value it names came from.
    std::string located(const std::string& message) const {
        const auto isNamePart = [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
        };
        for (const auto& [option, line] : lines_) {
            for (auto at = message.find(option); at != std::string::npos;
                 at = message.find(option, at + 1)) {
                const std::size_t after = at + option.size();
                if (after < message.size() && isNamePart(message[after]))
                    continue; // --status-key is not --status-key-file
                return fmt::format("{} ({}:{}, key '{}')", message, file_, line, option.substr(2));
            }
        }
        return message;
    }

    /// Reads nothing of the file: for --help and --version, which answer whatever it holds.
    void ignore() { ignored_ = true; }

private:
    bool isSettingsCommand(const std::string& name) const {
        return std::find(config_.commands.begin(), config_.commands.end(), name) !=
               config_.commands.end();
    }

    // The top level: the program's own options, and the tables of its settings commands.
    void readTop(const toml::table& root, std::vector<CLI::ConfigItem>& items) const {
        const bool kiosk = !config_.section.empty();
        root_ = &root;
        readKeys(app_, root, {}, items, !kiosk);
        for (const auto& [name, node] : root) {
            const toml::table* table = node.as_table();
            if (table == nullptr)
                continue;
            const std::string key(name.str());
            const auto line = node.source().begin.line;
            if (key == config_.section || key == config_.skipped)
                continue; // read above, or another program's
            const CLI::App* command = commandOf(app_, key);
            if (isSettingsCommand(key) && (kiosk || command != nullptr)) {
                if (!kiosk) // the kiosk leaves the command line's tables to it
                    readKeys(*command, *table, {key}, items, true);
                continue;
            }
            if (command != nullptr) {
                throw CLI::ConfigError(fmt::format(
                    "{}:{}: section [{}] cannot be in the file: the options of '{} {}' are "
                    "given on the command line each time{}",
                    file_, line, key, app_.get_name(), key, sectionsAllowed()));
            }
            throw CLI::ConfigError(fmt::format("{}:{}: unknown section [{}]: {} has no command "
                                               "'{}'{}",
                                               file_, line, key, app_.get_name(), key,
                                               sectionsAllowed()));
        }
    }

    std::string sectionsAllowed() const {
        std::vector<std::string> names;
        for (const std::string& c : config_.commands)
            names.push_back("[" + c + "]");
        if (!config_.section.empty())
            names.push_back(fmt::format("[{}]", config_.section));
        else if (!config_.skipped.empty())
            names.push_back(fmt::format("[{}]", config_.skipped));
        if (names.empty())
            return " (this file has no sections)";
        return fmt::format(" (the sections of this file: {})", fmt::join(names, ", "));
    }

    // The keys of one table (its tables are read by readTop). A key that is no option of the
    // command is refused when strict; else it is another program's (the kiosk's top level).
    void readKeys(const CLI::App& command, const toml::table& table,
                  const std::vector<std::string>& parents, std::vector<CLI::ConfigItem>& items,
                  bool strict) const {
        for (const auto& [name, node] : table) {
            const std::string key(name.str());
            const auto line = node.source().begin.line;
            if (node.is_table()) {
                if (&table == root_)
                    continue; // readTop's
                throw CLI::ConfigError(fmt::format(
                    "{}:{}: section [{}.{}] cannot be in the file{}", file_, line,
                    parents.empty() ? config_.section : parents.front(), key, sectionsAllowed()));
            }
            CLI::Option* option = optionOf(command, key);
            if (option == nullptr || !option->get_configurable()) {
                if (!strict)
                    continue;
                throw CLI::ConfigError(fmt::format(
                    "{}:{}: unknown key '{}': {} has no option --{}{}", file_, line, key,
                    parents.empty() ? app_.get_name() : app_.get_name() + " " + parents.front(),
                    key,
                    parents.empty() ? "" : fmt::format(" (in [{}])", fmt::join(parents, "."))));
            }
            std::vector<std::string> inputs = valuesFor(*option, key, node, line);
            lines_["--" + key] = static_cast<int>(line);
            if (const std::string& variable = option->get_envname(); !variable.empty()) {
                const char* value = std::getenv(variable.c_str());
                if (value != nullptr && *value != '\0')
                    continue; // the environment's value stands (CLI11 ignores an empty one)
            }
            CLI::ConfigItem item;
            item.parents = parents;
            item.name = key;
            item.inputs = std::move(inputs);
            items.push_back(std::move(item));
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
                    throw wrong("the number " + asWritten(*d));
                return asWritten(*d);
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
    ConfigFile config_;
    bool ignored_ = false;
    mutable const toml::table* root_ = nullptr;
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

// --help and --version answer whatever the configuration file holds.
bool asksForHelpOrVersion(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--")
            return false;
        if (arg == "--help" || arg == "-h" || arg == "--help-all" || arg == "--version")
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
        // Its callback runs once the file is read and checked, before what is required is.
        app.add_flag_callback(
               "--check-config", [] { throw CLI::Success(); },
               "check the configuration file and exit: 0 when it is good, else 2 and what is "
               "wrong")
            ->configurable(false);
    }
}

std::optional<int> parseCommandLine(CLI::App& app, int argc, const char* const* argv) {
    if (argc == 2 && std::string_view(argv[1]) == "--bash-completion") {
        std::cout << bashCompletion(app);
        return 0;
    }
    const auto config = std::dynamic_pointer_cast<TomlConfig>(app.get_config_formatter());
    if (config != nullptr && asksForHelpOrVersion(argc, argv)) {
        config->ignore();
    } else if (config != nullptr && !givenOnCommandLine(argc, argv, "--config")) {
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
    } catch (const CLI::Success&) { // --check-config
        const CLI::Option* file = app.get_config_ptr();
        if (file != nullptr && givenOnCommandLine(argc, argv, "--config") &&
            !std::filesystem::is_regular_file(file->as<std::string>())) {
            std::cerr << app.get_name() << ": " << file->as<std::string>()
                      << ": no such configuration file\n";
            return kUsage;
        }
        if (file == nullptr || file->count() == 0) {
            std::cout << app.get_name() << ": no configuration file: "
                      << (file ? file->as<std::string>() : std::string()) << " is not there\n";
        } else {
            std::cout << app.get_name() << ": " << file->as<std::string>() << " is good\n";
        }
        return 0;
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

// SPDX-License-Identifier: Apache-2.0
#include <unioncard/base/program.hpp>

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace unioncard::base {

namespace {

// What the completion knows of one command: its commands, its options, and which of those
// take a value (completed as a file name).
struct Level {
    std::set<std::string> commands;
    std::set<std::string> options;
    std::set<std::string> takingValues;
};

void addOptions(const CLI::App& app, Level& level) {
    for (const CLI::Option* option : app.get_options()) {
        if (option->get_group().empty() || !option->nonpositional())
            continue; // hidden, or a positional argument
        for (const std::string& name : option->get_lnames()) {
            level.options.insert("--" + name);
            if (option->get_expected_max() > 0)
                level.takingValues.insert("--" + name);
        }
        for (const std::string& name : option->get_snames()) {
            level.options.insert("-" + name);
            if (option->get_expected_max() > 0)
                level.takingValues.insert("-" + name);
        }
    }
}

void walk(const CLI::App& app, const std::string& path, std::map<std::string, Level>& levels) {
    Level& level = levels[path];
    addOptions(app, level);
    for (const CLI::App* sub : app.get_subcommands({})) {
        if (sub->get_name().empty()) { // an option group: its options are this command's
            addOptions(*sub, level);
            continue;
        }
        level.commands.insert(sub->get_name());
        walk(*sub, path + " " + sub->get_name(), levels);
    }
}

std::string words(const std::set<std::string>& s) {
    return fmt::format("{}", fmt::join(s, " "));
}

} // namespace

std::string bashCompletion(const CLI::App& app) {
    std::map<std::string, Level> levels;
    walk(app, "", levels);
    std::string function = "_" + app.get_name();
    for (char& c : function) {
        if (c == '-')
            c = '_';
    }
    std::string out = fmt::format(
        "# bash completion for {0}: made by `{0} --bash-completion` from its own command "
        "line,\n# so that it names every command and option the program has.\n"
        "{1}() {{\n"
        "    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}\n"
        "    local -A commands options values # by the command's words, after an @\n",
        app.get_name(), function);
    for (const auto& [path, level] : levels) {
        out += fmt::format(
            "    commands['@{0}']='{1}'; options['@{0}']='{2}'; values['@{0}']=' {3} '\n", path,
            words(level.commands), words(level.options), words(level.takingValues));
    }
    out += fmt::format(
        // The command the words so far name; the options of it and of the commands above it
        // (a program's own options may follow its commands).
        "    local path='' all=\"${{options['@']}}\" i w\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        w=${{COMP_WORDS[i]}}\n"
        "        if [[ \" ${{commands[@$path]-}} \" == *\" $w \"* ]]; then\n"
        "            path=\"$path $w\"\n"
        "            all=\"$all ${{options[@$path]-}}\"\n"
        "        fi\n"
        "    done\n"
        "    local p=$path\n"
        "    while :; do\n"
        "        if [[ ${{values[@$p]-}} == *\" $prev \"* ]]; then\n"
        "            COMPREPLY=($(compgen -f -- \"$cur\"))\n"
        "            return\n"
        "        fi\n"
        "        [ -z \"$p\" ] && break\n"
        "        p=${{p% *}}\n"
        "    done\n"
        "    if [[ $cur == -* ]]; then\n"
        "        COMPREPLY=($(compgen -W \"$all\" -- \"$cur\"))\n"
        "    else\n"
        "        COMPREPLY=($(compgen -W \"${{commands[@$path]-}}\" -- \"$cur\"))\n"
        "    fi\n"
        "}}\n"
        "complete -o default -F {} {}\n",
        function, app.get_name());
    return out;
}

} // namespace unioncard::base

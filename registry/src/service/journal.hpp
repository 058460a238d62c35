// SPDX-License-Identifier: Apache-2.0
#pragma once

// The service's log lines, on stderr: under systemd that is the journal, and each line then
// starts with its syslog level ("<3>" and so on, which journald takes as the entry's priority:
// `journalctl -u unioncard-registryd -p warning`). Run by hand, lines are as they are. Callers
// mask card numbers (the access log keeps the last four digits) and write no names.

#include <string_view>

namespace unioncard::registry {

enum class Level { Error = 3, Warning = 4, Info = 6 };

void logLine(Level level, std::string_view line);

} // namespace unioncard::registry

// SPDX-License-Identifier: Apache-2.0
#include "journal.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>

namespace unioncard::registry {

namespace {

// systemd sets JOURNAL_STREAM to the device and inode of the stream it connected; stderr is
// that stream unless the service redirected it.
bool stderrIsTheJournal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (stream == nullptr || fstat(2, &st) != 0)
        return false;
    unsigned long long device = 0, inode = 0;
    if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2)
        return false;
    return device == static_cast<unsigned long long>(st.st_dev) &&
           inode == static_cast<unsigned long long>(st.st_ino);
}

} // namespace

void logLine(Level level, std::string_view line) {
    static const bool journal = stderrIsTheJournal();
    std::string text;
    if (journal) {
        text += '<';
        text += static_cast<char>('0' + static_cast<int>(level));
        text += '>';
    }
    text += line;
    text += '\n';
    // One write per line: lines of concurrent requests do not interleave.
    std::fwrite(text.data(), 1, text.size(), stderr);
}

} // namespace unioncard::registry

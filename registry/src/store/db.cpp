// SPDX-License-Identifier: Apache-2.0
#include "store/db.hpp"

#include <charconv>

namespace unioncard::registry::sql {

bool Row::isNull(std::size_t i) const {
    return i >= m_values.size() || std::holds_alternative<std::nullptr_t>(m_values[i]);
}

std::int64_t Row::integer(std::size_t i) const {
    if (i >= m_values.size())
        return 0;
    if (const auto* n = std::get_if<std::int64_t>(&m_values[i]))
        return *n;
    if (const auto* s = std::get_if<std::string>(&m_values[i])) {
        std::int64_t n = 0;
        std::from_chars(s->data(), s->data() + s->size(), n);
        return n;
    }
    return 0;
}

std::string Row::text(std::size_t i) const {
    if (i >= m_values.size())
        return {};
    if (const auto* s = std::get_if<std::string>(&m_values[i]))
        return *s;
    if (const auto* n = std::get_if<std::int64_t>(&m_values[i]))
        return std::to_string(*n);
    if (const auto* b = std::get_if<Bytes>(&m_values[i]))
        return {b->begin(), b->end()};
    return {};
}

Bytes Row::bytes(std::size_t i) const {
    if (i >= m_values.size())
        return {};
    if (const auto* b = std::get_if<Bytes>(&m_values[i]))
        return *b;
    if (const auto* s = std::get_if<std::string>(&m_values[i]))
        return {s->begin(), s->end()};
    return {};
}

std::optional<std::string> Row::optText(std::size_t i) const {
    if (isNull(i))
        return std::nullopt;
    return text(i);
}

std::optional<std::int64_t> Row::optInteger(std::size_t i) const {
    if (isNull(i))
        return std::nullopt;
    return integer(i);
}

} // namespace unioncard::registry::sql

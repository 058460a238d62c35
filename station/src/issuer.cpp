// SPDX-License-Identifier: Apache-2.0
#include <unioncard/card/desfire/personalise.hpp>
#include <unioncard/card/record_text.hpp>
#include <unioncard/station/issuer.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <map>
#include <thread>
#include <unistd.h>

namespace unioncard::station {

namespace desfire = card::desfire;
using printer::PrinterFault;

namespace {

card::Seconds now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string describe(const desfire::Error& e) {
    return e.message;
}

} // namespace

void crashPoint(CardState state) {
    static const char* spec = std::getenv("UNIONCARD_STATION_CRASH_AT");
    if (spec == nullptr) {
        return;
    }
    static std::map<CardState, int> seen;
    const std::string text(spec);
    const auto colon = text.find(':');
    const auto wanted = parseCardState(text.substr(0, colon));
    const int n = colon == std::string::npos ? 1 : std::atoi(text.c_str() + colon + 1);
    if (wanted && *wanted == state && ++seen[state] == n) {
        ::kill(::getpid(), SIGKILL);
    }
}

Issuer::Issuer(StationStore& store, IssuerConfig config)
    : m_store(store), m_config(std::move(config)) {}

std::optional<StoreError> Issuer::step(CardRow& card, CardState next, const std::string& uid) {
    if (auto e = m_store.advance(card.id, next, uid)) {
        return e;
    }
    card.state = next;
    if (!uid.empty()) {
        card.chipUid = uid;
    }
    crashPoint(next);
    return std::nullopt;
}

Result<CardOutcome, StoreError> Issuer::spoil(CardOutcome outcome, const std::string& reason,
                                              const std::string& fate, bool blankUsed) {
    if (auto e = m_store.spoiled(outcome.card.id, reason, fate, now(), blankUsed)) {
        return fail(*e);
    }
    outcome.card.state = CardState::Spoiled;
    outcome.card.spoilReason = reason;
    outcome.card.cardFate = fate;
    outcome.problem = reason;
    crashPoint(CardState::Spoiled);
    return outcome;
}

Result<RecoveryReport, StoreError> Issuer::recover(const std::string& operatorId) {
    RecoveryReport report;
    std::vector<CardRow> open;
    for (CardState s :
         {CardState::Feeding, CardState::Encoding, CardState::Verifying, CardState::Printing}) {
        auto rows = m_store.cards(s);
        if (!rows) {
            return fail(rows.error());
        }
        open.insert(open.end(), rows->begin(), rows->end());
    }
    if (open.empty()) {
        return report;
    }
    // Where is the card? Only the printer can say: without its answer nothing is decided.
    auto status = m_config.printer->status();
    if (!status) {
        return fail(StoreError{fmt::format("{} card(s) were in production when the station "
                                           "stopped, and the printer does not answer ({}): "
                                           "start it, then start the batch again",
                                           open.size(), status.error().message)});
    }
    const bool inside = status->cardInside;
    bool stillInside = false;
    if (inside) {
        auto recovered = m_config.printer->recover();
        report.cardRejected = recovered && recovered->cardRejected;
        stillInside = !recovered; // the printer could not clear it
    }
    for (const CardRow& c : open) {
        std::string fate;
        bool blankUsed = true;
        if (stillInside) {
            fate = "still in the printer: open it, take the card out and destroy it";
        } else if (report.cardRejected) {
            fate = "reject box";
        } else if (c.state == CardState::Feeding) {
            blankUsed = false;
            fate = "not fed: the blank stayed in the feeder";
        } else if (c.state == CardState::Printing) {
            fate = fmt::format("not in the printer: it may be in the output hopper; find card "
                               "{} there and destroy it",
                               c.cardNumber);
        } else {
            fate = "not in the printer: look in the reject box and the output hopper";
        }
        const std::string reason = fmt::format(
            "the station stopped while the card was {} (restart recovery)", toString(c.state));
        if (auto e = m_store.spoiled(c.id, reason, fate, now(), blankUsed)) {
            return fail(*e);
        }
        CardRow done = c;
        done.state = CardState::Spoiled;
        done.spoilReason = reason;
        done.cardFate = fate;
        report.spoiled.push_back(std::move(done));
    }
    if (auto e = m_store.audit(operatorId, "station.recover",
                               fmt::format("{{\"cards\": {}, \"card_rejected\": {}}}",
                                           report.spoiled.size(),
                                           report.cardRejected ? "true" : "false"))) {
        return fail(*e);
    }
    return report;
}

Result<CardOutcome, StoreError> Issuer::issue(const std::string& applicationId,
                                              const std::string& operatorId) {
    CardOutcome outcome;
    auto application = m_store.application(applicationId);
    if (!application) {
        return fail(application.error());
    }
    if (!*application) {
        return fail(StoreError{fmt::format("no application {}", applicationId)});
    }
    const registry::Application& a = (*application)->application;

    // The printer must be able to take a card before a number is spent on it.
    auto status = m_config.printer->status();
    if (!status) {
        outcome.printerFault = status.error().code;
        outcome.problem = status.error().message;
        return outcome;
    }
    if (status->state != printer::PrinterState::Ready) {
        outcome.printerFault = status->fault;
        outcome.problem = std::string(printer::operatorAction(status->fault));
        return outcome;
    }

    auto started = m_store.startCard(applicationId, operatorId, m_config.scheme);
    if (!started) {
        return fail(started.error());
    }
    outcome.card = started.value();
    crashPoint(CardState::Feeding);

    if (auto fed = m_config.printer->feedToContactless(); !fed) {
        outcome.printerFault = fed.error().code;
        const bool noCard = fed.error().code == PrinterFault::FeederEmpty;
        const std::string fate = noCard
                                     ? "not fed: the feeder is empty"
                                     : (fed.error().cardRejected ? "reject box" : "in the printer");
        return spoil(std::move(outcome), "feeding failed: " + fed.error().message, fate, !noCard);
    }
    if (auto e = step(outcome.card, CardState::Encoding)) {
        return fail(*e);
    }

    // The chip: its UID, the record bound to it, personalisation (with its own read-back).
    auto rejectAndSpoil = [&](const std::string& reason) -> Result<CardOutcome, StoreError> {
        auto rejected = m_config.printer->reject();
        return spoil(std::move(outcome), reason,
                     rejected ? "reject box"
                              : "in the printer (rejecting it failed: " + rejected.error().message +
                                    ")");
    };
    auto connection = m_config.encoder();
    if (!connection) {
        return rejectAndSpoil("the encoder does not see the card: " + connection.error().message);
    }
    desfire::Desfire chip(**connection);
    auto version = chip.getVersion();
    if (!version) {
        return rejectAndSpoil("the card at the encoder is not a DESFire card that answers: " +
                              describe(version.error()));
    }
    const card::Days today = std::chrono::floor<std::chrono::days>(now());
    const auto ymd = std::chrono::year_month_day{today};
    auto expiresYmd = ymd + std::chrono::years{m_config.validityYears};
    if (!expiresYmd.ok()) { // 29 February
        expiresYmd = expiresYmd.year() / expiresYmd.month() / std::chrono::last;
    }
    auto number = card::CardNumber::parse(outcome.card.cardNumber, m_config.scheme);
    if (!number) {
        return rejectAndSpoil("the card number is not valid: " + number.error().message);
    }
    card::CardRecord record{number.value(),
                            a.memberId,
                            a.region,
                            a.organisationCode,
                            static_cast<std::uint32_t>(a.cardSequence),
                            today,
                            std::chrono::sys_days{expiresYmd},
                            version->uid,
                            m_config.stationId};
    auto signedRecord = m_config.keys->signRecord(record);
    if (!signedRecord) {
        return rejectAndSpoil("the record could not be signed: " + signedRecord.error());
    }
    auto personalised =
        desfire::personalise(chip, *m_config.profile, *m_config.masterKeys, signedRecord.value());
    if (!personalised) {
        return rejectAndSpoil("personalisation failed: " + describe(personalised.error()));
    }
    const std::string uidHex = card::toHex(version->uid);
    if (auto e = step(outcome.card, CardState::Verifying, uidHex)) {
        return fail(*e);
    }

    // The read-back as a verifier: only the read key, the record's signature, issuer, dates and
    // the binding to this chip.
    auto readKeys = m_config.masterKeys->only({"record-read"});
    if (!readKeys) {
        return rejectAndSpoil("the station has no record-read key: " + readKeys.error().message);
    }
    auto read = desfire::readRecord(chip, *m_config.profile, readKeys.value(), {version->uid});
    if (!read) {
        return rejectAndSpoil("the chip does not read back as a verifier reads it: " +
                              describe(read.error()));
    }
    const auto checked = card::verifyRecord(read->record, *m_config.trust, today, m_config.scheme);
    if (checked.verdict != card::Verdict::Valid || read->record != signedRecord.value()) {
        return rejectAndSpoil("the chip's record does not verify: " + checked.reason);
    }
    connection->reset();
    if (auto e = step(outcome.card, CardState::Printing)) {
        return fail(*e);
    }

    // The faces, with the QR of the very record on the chip.
    printer::CardFields fields;
    fields.fullName = a.fullName;
    fields.cardNumber = outcome.card.cardNumber;
    fields.organisation = a.organisationName;
    fields.region = m_config.regionName;
    fields.validUntil = card::formatDate(record.expires);
    fields.qr = card::recordToText(signedRecord.value());
    auto faces = m_config.renderer->renderCard(fields);
    if (!faces) {
        return rejectAndSpoil("the card face could not be drawn: " + faces.error().message);
    }
    const int dpi = m_config.renderer->layout().dpi;
    auto printed = m_config.printer->printCard(printer::toRaster(faces->front, dpi),
                                               printer::toRaster(faces->back, dpi));
    if (!printed) {
        outcome.printerFault = printed.error().code;
        const std::string fate = printed.error().cardRejected
                                     ? "reject box"
                                     : "in the printer or its output hopper: find card " +
                                           outcome.card.cardNumber + " and destroy it";
        return spoil(std::move(outcome), "printing failed: " + printed.error().message, fate);
    }
    if (auto e = m_store.produced(outcome.card.id, now())) {
        return fail(*e);
    }
    outcome.card.state = CardState::Produced;
    outcome.produced = true;
    crashPoint(CardState::Produced);
    return outcome;
}

BatchReport Issuer::runBatch(std::size_t count, const std::string& operatorId, std::stop_token stop,
                             const BatchHooks& hooks) {
    std::vector<std::string> ids;
    if (auto queued = m_store.applications("queued")) {
        for (const auto& q : *queued) {
            if (ids.size() == count) {
                break;
            }
            ids.push_back(q.application.id);
        }
    }
    return runBatch(ids, operatorId, stop, hooks);
}

BatchReport Issuer::runBatch(const std::vector<std::string>& ids, const std::string& operatorId,
                             std::stop_token stop, const BatchHooks& hooks) {
    BatchReport report;
    Progress p;
    const auto started = std::chrono::steady_clock::now();
    auto tell = [&](std::size_t next) {
        p.done = report.produced;
        p.spoiled = report.spoiled;
        p.left = ids.size() - next;
        const std::size_t made = report.produced + report.spoiled;
        if (made > 0) {
            const auto each = (std::chrono::steady_clock::now() - started) / made;
            p.timeLeft = std::chrono::duration_cast<std::chrono::seconds>(each * p.left);
        }
        if (hooks.progress) {
            hooks.progress(p);
        }
    };
    std::size_t i = 0;
    for (; i < ids.size(); ++i) {
        int cards = 0;
        while (cards < 2) {
            if (hooks.waitWhilePaused) {
                hooks.waitWhilePaused(stop);
            }
            if (stop.stop_requested()) {
                report.cancelled = true;
                report.notStarted = ids.size() - i;
                tell(i);
                return report;
            }
            p.current = fmt::format("application {}", ids[i]);
            p.paused.reset();
            p.action.clear();
            tell(i);
            auto outcome = issue(ids[i], operatorId);
            if (!outcome) {
                // The station's own file failed: stop, nothing more can be recorded.
                p.current = outcome.error().message;
                report.notStarted = ids.size() - i;
                tell(i);
                return report;
            }
            if (outcome->card.id != 0) {
                report.cards.push_back(*outcome);
                ++(outcome->produced ? report.produced : report.spoiled);
                ++cards;
            }
            if (outcome->produced) {
                p.current = fmt::format("card {} produced", outcome->card.cardNumber);
                break;
            }
            const auto fault = outcome->printerFault;
            if (!fault || *fault == PrinterFault::None || *fault == PrinterFault::EncoderError) {
                continue; // the card's own fault: a second card for the same application
            }
            // The printer's fault, not the card's: wait for the operator, then the same
            // application again without counting this card against it.
            if (outcome->card.id != 0) {
                --cards;
            }
            const std::int64_t spoiledCard =
                outcome->card.state == CardState::Spoiled ? outcome->card.id : 0;
            p.paused = fault;
            p.action = std::string(printer::operatorAction(*fault));
            p.current = outcome->problem;
            tell(i);
            while (!stop.stop_requested()) {
                std::this_thread::sleep_for(hooks.faultPoll);
                auto status = m_config.printer->status();
                if (!status && status.error().code == PrinterFault::Offline &&
                    m_config.reconnectPrinter) {
                    if (auto* again = m_config.reconnectPrinter()) {
                        m_config.printer = again;
                        status = m_config.printer->status();
                    }
                }
                if (status && status->state == printer::PrinterState::Ready &&
                    !status->cardInside) {
                    break;
                }
                if (status && status->cardInside && status->state != printer::PrinterState::Busy) {
                    auto recovered = m_config.printer->recover();
                    if (recovered && recovered->cardRejected && spoiledCard != 0) {
                        (void)m_store.setCardFate(spoiledCard, "reject box");
                    }
                }
            }
        }
    }
    p.paused.reset();
    p.action.clear();
    p.current = "batch finished";
    tell(i);
    return report;
}

} // namespace unioncard::station

// SPDX-License-Identifier: Apache-2.0
#pragma once

// The issuance workflow for one card and for a batch: take a blank card to the encoder,
// personalise the chip, read it back and check it as a verifier would, print the faces, and
// record each step before the physical step it starts (docs/station.md). A crash at any moment
// is recovered on the next start against the printer's reported card position.

#include <unioncard/card/card_record.hpp>
#include <unioncard/card/desfire/master_keys.hpp>
#include <unioncard/card/desfire/profile.hpp>
#include <unioncard/card/transport.hpp>
#include <unioncard/card/trust_list.hpp>
#include <unioncard/printer/card_printer.hpp>
#include <unioncard/printer/renderer.hpp>
#include <unioncard/station/key_store.hpp>
#include <unioncard/station/store.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace unioncard::station {

/// Opens a connection to the card at the printer's encoder (the paired PC/SC reader).
using EncoderConnect = std::function<Result<std::unique_ptr<card::CardConnection>, card::Fault>()>;

struct IssuerConfig {
    std::string stationId;
    const card::desfire::Profile* profile = nullptr;
    const card::desfire::MasterKeys* masterKeys = nullptr;
    const KeyStore* keys = nullptr;         ///< signs the records (files or a PKCS#11 token)
    const card::TrustList* trust = nullptr; ///< the read-back is checked against it
    printer::CardPrinter* printer = nullptr;
    const printer::CardRenderer* renderer = nullptr;
    EncoderConnect encoder;
    /// Opens the printer again after it went offline (a power cut, a pulled cable); the new
    /// connection replaces `printer`. Empty: the batch waits for the old connection.
    std::function<printer::CardPrinter*()> reconnectPrinter;
    std::string regionName; ///< printed on the card
    int validityYears = 5;  ///< the card's expiry, from its issue date
    card::NumberScheme scheme = card::NumberScheme::standard();
};

/// Where a batch stands, for the terminal or the screen.
struct Progress {
    std::size_t done = 0;                         ///< produced in this batch
    std::size_t spoiled = 0;                      ///< spoiled in this batch
    std::size_t left = 0;                         ///< applications still to make
    std::optional<std::chrono::seconds> timeLeft; ///< from the measured rate
    std::string current;                          ///< the card's number and step, or a pause
    std::optional<printer::PrinterFault> paused;  ///< the fault the batch waits on
    std::string action;                           ///< what the operator should do
};

struct CardOutcome {
    CardRow card;
    bool produced = false;
    std::string problem; ///< why it was spoiled, in words
    std::optional<printer::PrinterFault> printerFault;
};

struct BatchReport {
    std::size_t produced = 0;
    std::size_t spoiled = 0;
    std::size_t notStarted = 0; ///< left in the queue (cancelled, or a fault not cleared)
    bool cancelled = false;
    std::vector<CardOutcome> cards;
};

struct BatchHooks {
    /// Called with each change, on the batch's thread.
    std::function<void(const Progress&)> progress;
    /// Called before each card; blocks while the operator has paused the batch (returns at
    /// once otherwise, and when stop is requested). The pause never leaves a card in the printer.
    std::function<void(std::stop_token)> waitWhilePaused;
    /// How long to wait between two looks at a printer that has a fault.
    std::chrono::milliseconds faultPoll{500};
};

struct RecoveryReport {
    std::vector<CardRow> spoiled; ///< cards a crash left in production, now voided
    bool cardRejected = false;    ///< the printer had a card inside and rejected it
};

class Issuer {
public:
    Issuer(StationStore& store, IssuerConfig config);

    /// Cards a crash left in Feeding..Printing: each is recorded Spoiled with where it
    /// physically is (the printer's report decides), and its application goes back to the queue.
    Result<RecoveryReport, StoreError> recover(const std::string& operatorId);

    /// One card for one queued application, start to finish.
    Result<CardOutcome, StoreError> issue(const std::string& applicationId,
                                          const std::string& operatorId);

    /// These applications, in this order (the queue screen's pick, or the oldest N). Each gets
    /// at most two cards; a printer fault pauses the batch with the operator's action and it
    /// resumes by itself once the printer is ready (reconnecting after a power cut); a card
    /// failing at the encoder or the check is spoiled and the batch goes on; `stop` ends it
    /// between cards.
    BatchReport runBatch(const std::vector<std::string>& applicationIds,
                         const std::string& operatorId, std::stop_token stop,
                         const BatchHooks& hooks);
    /// Up to `count` queued applications, oldest first.
    BatchReport runBatch(std::size_t count, const std::string& operatorId, std::stop_token stop,
                         const BatchHooks& hooks);

private:
    Result<CardOutcome, StoreError> spoil(CardOutcome outcome, const std::string& reason,
                                          const std::string& fate, bool blankUsed = true);
    std::optional<StoreError> step(CardRow& card, CardState next, const std::string& uid = {});

    StationStore& m_store;
    IssuerConfig m_config;
};

/// The test hook for crash consistency: with UNIONCARD_STATION_CRASH_AT=STATE:N the process
/// kills itself (SIGKILL, no clean-up) right after the N-th card state STATE was written.
void crashPoint(CardState state);

} // namespace unioncard::station

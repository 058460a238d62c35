// SPDX-License-Identifier: Apache-2.0
#include "verifier_controller.hpp"

#include <unioncard/card/desfire/desfire.hpp>

#include <QMetaObject>

namespace unioncard::verifier::ui {

namespace {

QDateTime toQt(card::Seconds at) {
    return QDateTime::fromSecsSinceEpoch(at.time_since_epoch().count());
}

QDate toQt(card::Days day) {
    constexpr qint64 kJulianDayOfEpoch = 2440588; // 1970-01-01
    return QDate::fromJulianDay(day.time_since_epoch().count() + kJulianDayOfEpoch);
}

QString classOf(VerdictCode code) {
    switch (code) {
    case VerdictCode::Valid:
        return QStringLiteral("valid");
    case VerdictCode::CannotConfirmOffline:
        return QStringLiteral("unknown");
    case VerdictCode::Revoked:
    case VerdictCode::Suspended:
    case VerdictCode::Expired:
    case VerdictCode::NotYetValid:
    case VerdictCode::BadSignature:
    case VerdictCode::UnknownIssuer:
    case VerdictCode::ChipAuthFailed:
    case VerdictCode::NotUnionCard:
    case VerdictCode::Unreadable:
        return QStringLiteral("invalid");
    }
    return QStringLiteral("invalid");
}

} // namespace

VerifierController::VerifierController(VerifierDeps deps, QObject* parent)
    : QObject(parent), m_deps(std::move(deps)) {
    Q_ASSERT(m_deps.store != nullptr && m_deps.taps != nullptr);
    if (!m_deps.clock) {
        m_deps.clock = [] {
            return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        };
    }
    m_now = m_deps.clock();
    auto& store = *m_deps.store;
    m_mode = parseMode(store.setting("mode").value_or("event")).value_or(Mode::Event);
    if (auto hours = store.setting("max_status_age_hours"))
        m_maxStatusAge = std::chrono::hours(std::max(1, std::atoi(hours->c_str())));
    if (m_deps.desk.empty())
        m_deps.desk = store.setting("desk").value_or("desk");
    if (auto events = store.events())
        m_events = std::move(events).value();
    if (auto active = store.setting("active_event"))
        m_eventId = QString::fromStdString(*active);
    reloadLists();
    refreshCount();

    // The age of the status list goes on growing while nothing happens.
    m_clockTimer.setInterval(15000);
    connect(&m_clockTimer, &QTimer::timeout, this, [this] {
        m_now = m_deps.clock();
        emit statusChanged();
    });
    m_clockTimer.start();
    // The registry, now and then: the lists stay fresh and the online flag stays true.
    if (m_deps.sync) {
        m_syncTimer.setInterval(
            static_cast<int>(std::chrono::milliseconds(m_deps.syncEvery).count()));
        connect(&m_syncTimer, &QTimer::timeout, this, &VerifierController::startSync);
        m_syncTimer.start();
        QTimer::singleShot(0, this, &VerifierController::startSync);
    }
    // A verdict stays until the next card, or this long.
    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(12000);
    connect(&m_idleTimer, &QTimer::timeout, this, &VerifierController::clearVerdict);
}

VerifierController::~VerifierController() {
    m_watch.request_stop();
    m_deps.taps->interrupt();
    if (m_watch.joinable())
        m_watch.join();
    if (m_lookup.joinable())
        m_lookup.join();
}

QString VerifierController::mode() const {
    return QString::fromUtf8(toString(m_mode));
}

bool VerifierController::hasStatusList() const {
    return lists()->status.has_value();
}

qint64 VerifierController::statusListAgeSeconds() const {
    const auto l = lists();
    if (!l->status)
        return -1;
    return std::max<qint64>(0, (m_now - l->status->issuedAt()).count());
}

bool VerifierController::statusListStale() const {
    const auto l = lists();
    const bool clockBehind =
        l->clockHighWater && m_now + registry::kStatusClockSkew < *l->clockHighWater;
    return !l->status || l->statusStaleAt || clockBehind ||
           l->status->olderThan(m_maxStatusAge, m_now);
}

QString VerifierController::verdictCode() const {
    if (m_duplicate)
        return QStringLiteral("duplicate");
    return m_verdict ? QString::fromUtf8(toString(m_verdict->code)) : QString();
}

QString VerifierController::verdictSource() const {
    return m_verdict ? QString::fromUtf8(toString(m_verdict->source)) : QString();
}

bool VerifierController::verdictOnline() const {
    return m_verdict && m_verdict->statusCheck == StatusCheck::Online;
}

bool VerifierController::chipNotChecked() const {
    return m_verdict && m_verdict->chipNotChecked;
}

QString VerifierController::maskedNumber() const {
    return m_verdict ? QString::fromStdString(m_verdict->maskedNumber()) : QString();
}

QString VerifierController::formattedNumber() const {
    // A shop sees the masked number only.
    if (m_mode == Mode::Merchant || !m_verdict || !m_verdict->number)
        return {};
    return QString::fromStdString(m_verdict->number->formatted());
}

QDate VerifierController::expires() const {
    if (m_mode == Mode::Merchant || !m_verdict || !m_verdict->record)
        return {};
    return toQt(m_verdict->record->expires);
}

QVariantList VerifierController::events() const {
    QVariantList out;
    for (const auto& e : m_events) {
        out.append(QVariantMap{{QStringLiteral("id"), QString::fromStdString(e.id)},
                               {QStringLiteral("name"), QString::fromStdString(e.name)},
                               {QStringLiteral("rule"), QString::fromUtf8(toString(e.rule))}});
    }
    return out;
}

QString VerifierController::eventName() const {
    for (const auto& e : m_events) {
        if (QString::fromStdString(e.id) == m_eventId)
            return QString::fromStdString(e.name);
    }
    return {};
}

void VerifierController::start() {
    if (m_watch.joinable())
        return;
    m_watch = std::jthread([this](std::stop_token stop) {
        m_deps.taps->run(
            stop, [this](Tap& tap) { onTap(tap); },
            [this](const std::string& problem) {
                QMetaObject::invokeMethod(
                    this,
                    [this, text = QString::fromStdString(problem)] {
                        m_readerProblem = text;
                        emit statusChanged();
                    },
                    Qt::QueuedConnection);
            });
    });
}

void VerifierController::setMode(const QString& mode) {
    const auto parsed = parseMode(mode.toStdString());
    if (!parsed || *parsed == m_mode)
        return;
    m_mode = *parsed;
    (void)m_deps.store->setSetting("mode", toString(m_mode));
    clearVerdict();
    emit modeChanged();
}

bool VerifierController::selectEvent(const QString& id) {
    for (const auto& e : m_events) {
        if (QString::fromStdString(e.id) != id)
            continue;
        if (auto error = m_deps.store->setSetting("active_event", e.id))
            return false;
        m_eventId = id;
        refreshCount();
        clearVerdict();
        emit eventsChanged();
        return true;
    }
    return false;
}

void VerifierController::clearVerdict() {
    m_idleTimer.stop();
    m_class = QStringLiteral("idle");
    m_verdict.reset();
    m_checkedIn = false;
    m_duplicate = false;
    m_memberName.clear();
    m_earlierAt = {};
    m_earlierDesk.clear();
    m_problem.clear();
    emit verdictChanged();
}

QString VerifierController::formatTyped(const QString& digits) const {
    QString out;
    for (qsizetype i = 0; i < digits.size(); ++i) {
        if (i > 0 && i % 4 == 0)
            out += QLatin1Char(' ');
        out += digits.at(i);
    }
    return out;
}

QString VerifierController::checkTyped(const QString& digits) const {
    if (digits.size() > static_cast<qsizetype>(card::CardNumber::kDigits))
        return QStringLiteral("too_long");
    if (digits.size() < static_cast<qsizetype>(card::CardNumber::kDigits))
        return QStringLiteral("incomplete");
    auto number = card::CardNumber::parse(digits.toStdString());
    if (number)
        return {};
    switch (number.error().code) {
    case card::NumberErrorCode::CheckDigitMismatch:
        return QStringLiteral("check_digit");
    case card::NumberErrorCode::UnknownPrefix:
        return QStringLiteral("prefix");
    case card::NumberErrorCode::RegionOutOfRange:
        return QStringLiteral("region");
    case card::NumberErrorCode::TooManyDigits:
        return QStringLiteral("too_long");
    case card::NumberErrorCode::Empty:
    case card::NumberErrorCode::TooFewDigits:
    case card::NumberErrorCode::InvalidCharacter:
    case card::NumberErrorCode::InvalidPart:
        return QStringLiteral("incomplete");
    }
    return QStringLiteral("incomplete");
}

bool VerifierController::checkNumber(const QString& digits) {
    if (!checkTyped(digits).isEmpty())
        return false;
    m_class = QStringLiteral("checking");
    emit verdictChanged();
    if (m_lookup.joinable())
        m_lookup.join();
    m_lookup = std::jthread([this, typed = digits.toStdString(), l = lists()] {
        const Verdict v = verifyNumber(typed, context(*l));
        QMetaObject::invokeMethod(
            this, [this, v] { showVerdict(v); }, Qt::QueuedConnection);
    });
    return true;
}

void VerifierController::onTap(Tap& tap) {
    const auto l = lists();
    card::desfire::Desfire card(tap.connection);
    Verdict v = verifyChip(card, m_deps.profile, *m_deps.readKeys, tap.uid, context(*l));
    v.apdus += tap.readerExchanges;
    QMetaObject::invokeMethod(
        this, [this, v] { showVerdict(v); }, Qt::QueuedConnection);
}

void VerifierController::showVerdict(const Verdict& verdict) {
    clearVerdict();
    m_verdict = verdict;
    m_class = classOf(verdict.code);
    m_now = m_deps.clock();
    if (m_deps.online) {
        const bool wasOnline = m_online;
        if (verdict.statusCheck == StatusCheck::Online)
            m_online = true;
        else if (verdict.statusCheck == StatusCheck::StatusList)
            m_online = false; // the registry was asked and did not answer
        if (wasOnline != m_online)
            emit statusChanged();
    }
    if (m_mode == Mode::Event && verdict.valid() && verdict.number && !m_eventId.isEmpty()) {
        auto event = m_deps.store->event(m_eventId.toStdString());
        if (event && *event) {
            auto admission =
                admit(*m_deps.store, **event, *verdict.number, m_deps.desk, m_deps.clock());
            if (!admission) {
                m_problem = QString::fromStdString(admission.error().message);
            } else {
                m_checkedIn = admission->admitted;
                m_duplicate = !admission->admitted;
                if (admission->name)
                    m_memberName = QString::fromStdString(*admission->name);
                if (admission->earlier) {
                    m_earlierAt = toQt(admission->earlier->at);
                    m_earlierDesk = QString::fromStdString(admission->earlier->desk);
                }
                if (m_duplicate)
                    m_class = QStringLiteral("invalid");
            }
            refreshCount();
            emit eventsChanged();
        }
    }
    ++m_tapCount;
    m_idleTimer.start();
    emit verdictChanged();
    emit verdictShown(m_class);
}

std::shared_ptr<const Lists> VerifierController::lists() const {
    std::lock_guard lock(m_listsMutex);
    return m_lists;
}

Context VerifierController::context(const Lists& l) const {
    Context c;
    useLists(c, l);
    c.now = m_deps.clock();
    c.maxStatusAge = m_maxStatusAge;
    c.online = m_deps.online;
    return c;
}

void VerifierController::startSync() {
    if (m_syncing) {
        return;
    }
    m_syncing = true;
    m_sync = std::jthread([this](std::stop_token) {
        const SyncReport report = m_deps.sync();
        QMetaObject::invokeMethod(
            this,
            [this, report] {
                m_syncing = false;
                // Online means the registry answered this sync; what it sent is in the file.
                const bool reached = report.trustSequence || report.statusVersion;
                const bool changed = reached != m_online;
                m_online = reached;
                reloadLists();
                refreshCount();
                if (changed) {
                    emit statusChanged();
                }
            },
            Qt::QueuedConnection);
    });
}

void VerifierController::reloadLists() {
    auto loaded =
        std::make_shared<const Lists>(loadLists(*m_deps.store, m_deps.rootFingerprint, m_now));
    {
        std::lock_guard lock(m_listsMutex);
        m_lists = std::move(loaded);
    }
    emit statusChanged();
}

void VerifierController::refreshCount() {
    m_liveCount = 0;
    m_duplicateCount = 0;
    if (m_eventId.isEmpty())
        return;
    auto event = m_deps.store->event(m_eventId.toStdString());
    if (!event || !*event)
        return;
    if (auto a = attendance(*m_deps.store, **event)) {
        m_liveCount = static_cast<int>(a->counted.size());
        m_duplicateCount = static_cast<int>(a->duplicates.size());
    }
}

} // namespace unioncard::verifier::ui

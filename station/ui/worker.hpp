// SPDX-License-Identifier: Apache-2.0
#pragma once

// Device and network work off the UI thread: one thread per worker, jobs run in order. A job
// gets a stop token (set when the worker goes away or cancel() is called) and hands its result
// back to the UI thread with QMetaObject::invokeMethod(..., Qt::QueuedConnection); a result for
// a controller that is gone is dropped by Qt.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace unioncard::station::ui {

class Worker {
public:
    using Job = std::function<void(std::stop_token)>;

    Worker() : m_thread([this](std::stop_token stop) { run(stop); }) {}
    ~Worker() {
        cancel();
        m_thread.request_stop();
        m_wake.notify_all();
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void post(Job job) {
        {
            std::lock_guard lock(m_mutex);
            m_jobs.push_back(std::move(job));
        }
        m_wake.notify_all();
    }

    /// Stops the running job (its token) and drops the jobs not started.
    void cancel() {
        std::lock_guard lock(m_mutex);
        m_jobs.clear();
        m_current.request_stop();
    }

    /// True while a job runs or waits.
    bool busy() const {
        std::lock_guard lock(m_mutex);
        return m_running || !m_jobs.empty();
    }

private:
    void run(std::stop_token stop) {
        for (;;) {
            Job job;
            std::stop_token token;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, stop, [this] { return !m_jobs.empty(); });
                if (stop.stop_requested()) {
                    return;
                }
                job = std::move(m_jobs.front());
                m_jobs.pop_front();
                m_current = std::stop_source();
                token = m_current.get_token();
                m_running = true;
            }
            std::stop_callback forward(stop, [this] {
                std::lock_guard lock(m_mutex);
                m_current.request_stop();
            });
            job(token);
            std::lock_guard lock(m_mutex);
            m_running = false;
        }
    }

    mutable std::mutex m_mutex;
    std::condition_variable_any m_wake;
    std::deque<Job> m_jobs;
    std::stop_source m_current;
    bool m_running = false;
    std::jthread m_thread; // last: joins before the members it uses go
};

} // namespace unioncard::station::ui

<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU">
<context>
    <name>BatchPage</name>
    <message>
        <source>Time left: working it out…</source>
        <translation>Осталось: считаем…</translation>
    </message>
    <message>
        <source>Time left: under a minute</source>
        <translation>Осталось: меньше минуты</translation>
    </message>
    <message numerus="yes">
        <source>Time left: about %n minute(s)</source>
        <translation>
            <numerusform>Осталось: около %n минуты</numerusform>
            <numerusform>Осталось: около %n минут</numerusform>
            <numerusform>Осталось: около %n минут</numerusform>
        </translation>
    </message>
    <message>
        <source>Batch paused</source>
        <translation>Партия на паузе</translation>
    </message>
    <message>
        <source>Printing the batch</source>
        <translation>Печать партии</translation>
    </message>
    <message>
        <source>Batch cancelled</source>
        <translation>Партия отменена</translation>
    </message>
    <message>
        <source>Batch finished</source>
        <translation>Партия готова</translation>
    </message>
    <message>
        <source>No batch is running</source>
        <translation>Партия не запущена</translation>
    </message>
    <message>
        <source>Batch progress</source>
        <translation>Ход печати партии</translation>
    </message>
    <message numerus="yes">
        <source>%n card(s) made</source>
        <translation>
            <numerusform>Изготовлена %n карта</numerusform>
            <numerusform>Изготовлено %n карты</numerusform>
            <numerusform>Изготовлено %n карт</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n spoiled</source>
        <translation>
            <numerusform>%n испорчена</numerusform>
            <numerusform>%n испорчены</numerusform>
            <numerusform>%n испорчено</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n left</source>
        <translation>
            <numerusform>осталась %n</numerusform>
            <numerusform>осталось %n</numerusform>
            <numerusform>осталось %n</numerusform>
        </translation>
    </message>
    <message>
        <source>The batch goes on by itself once this is fixed.</source>
        <translation>Как только это будет исправлено, печать продолжится сама.</translation>
    </message>
    <message>
        <source>The printer cannot be reached. Check its power and cable, then start again.</source>
        <translation>Принтер не отвечает. Проверьте питание и кабель и запустите снова.</translation>
    </message>
    <message>
        <source>The card keys cannot be used. Call the supervisor.</source>
        <translation>Ключи карт недоступны. Позовите старшего оператора.</translation>
    </message>
    <message>
        <source>The station&apos;s file cannot be written. Call the supervisor.</source>
        <translation>Не удаётся записать данные станции. Позовите старшего оператора.</translation>
    </message>
    <message>
        <source>Spoiled cards: put them in the box for destruction</source>
        <translation>Испорченные карты: положите их в ящик для уничтожения</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Продолжить</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Пауза</translation>
    </message>
    <message>
        <source>Cancel the batch</source>
        <translation>Отменить партию</translation>
    </message>
    <message>
        <source>Back to the queue</source>
        <translation>К очереди</translation>
    </message>
    <message>
        <source>The card being made</source>
        <translation>Изготавливаемая карта</translation>
    </message>
</context>
<context>
    <name>HandoverPage</name>
    <message>
        <source>Hand a card over</source>
        <translation>Выдать карту</translation>
    </message>
    <message>
        <source>Ask the member to tap the card on the desk reader</source>
        <translation>Попросите члена Профсоюза приложить карту к считывателю на столе</translation>
    </message>
    <message>
        <source>Read a card</source>
        <translation>Считать карту</translation>
    </message>
    <message>
        <source>Card number (lost card)</source>
        <translation>Номер карты (если карта утеряна)</translation>
    </message>
    <message>
        <source>Card number</source>
        <translation>Номер карты</translation>
    </message>
    <message>
        <source>Find the card</source>
        <translation>Найти карту</translation>
    </message>
    <message>
        <source>The member&apos;s card</source>
        <translation>Карта члена Профсоюза</translation>
    </message>
    <message>
        <source>Card: %1</source>
        <translation>Карта: %1</translation>
    </message>
    <message>
        <source>Handed over.</source>
        <translation>Выдана.</translation>
    </message>
    <message>
        <source>The refusal is recorded.</source>
        <translation>Отказ записан.</translation>
    </message>
    <message>
        <source>The card is recorded as lost.</source>
        <translation>Карта записана как утерянная.</translation>
    </message>
    <message>
        <source>The card is replaced; the new card is in the queue.</source>
        <translation>Карта заменена; новая карта поставлена в очередь.</translation>
    </message>
    <message>
        <source>Sending to the registry…</source>
        <translation>Отправка в реестр…</translation>
    </message>
    <message>
        <source>The registry has it.</source>
        <translation>Реестр получил статус.</translation>
    </message>
    <message>
        <source>It will be sent to the registry as soon as it can be reached.</source>
        <translation>Статус будет отправлен в реестр, как только появится связь.</translation>
    </message>
    <message>
        <source>Reason (for a refusal or a replacement)</source>
        <translation>Причина (для отказа или замены)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Причина</translation>
    </message>
    <message>
        <source>This is not a union card, or it cannot be read. Tap it again and hold it still.</source>
        <translation>Это не профсоюзный билет, или он не читается. Приложите карту снова и держите её неподвижно.</translation>
    </message>
    <message>
        <source>This card was not made at this station (%1).</source>
        <translation>Эта карта изготовлена не на этой станции (%1).</translation>
    </message>
    <message>
        <source>The card number is not right. Check the digits.</source>
        <translation>Номер карты неверен. Проверьте цифры.</translation>
    </message>
    <message>
        <source>The desk reader is not available.</source>
        <translation>Считыватель на столе недоступен.</translation>
    </message>
    <message>
        <source>This cannot be done with the card in its present state.</source>
        <translation>С картой в её текущем состоянии этого сделать нельзя.</translation>
    </message>
    <message>
        <source>Hand over</source>
        <translation>Выдать</translation>
    </message>
    <message>
        <source>Member refuses</source>
        <translation>Отказ от карты</translation>
    </message>
    <message>
        <source>Report lost</source>
        <translation>Карта утеряна</translation>
    </message>
    <message>
        <source>Replace the card</source>
        <translation>Заменить карту</translation>
    </message>
    <message>
        <source>Next card</source>
        <translation>Следующая карта</translation>
    </message>
    <message>
        <source>Stop waiting</source>
        <translation>Не ждать карту</translation>
    </message>
    <message>
        <source>Training:</source>
        <translation>Обучение:</translation>
    </message>
    <message>
        <source>Tap a card waiting for its member</source>
        <translation>Приложить карту, ждущую владельца</translation>
    </message>
    <message>
        <source>Tap a card that is not a union card</source>
        <translation>Приложить чужую карту</translation>
    </message>
    <message>
        <source>Second supervisor&apos;s number</source>
        <translation>Номер второго руководителя</translation>
    </message>
    <message>
        <source>Their PIN</source>
        <translation>Его ПИН-код</translation>
    </message>
    <message>
        <source>Second supervisor&apos;s PIN</source>
        <translation>ПИН-код второго руководителя</translation>
    </message>
    <message>
        <source>A replacement needs a second supervisor: they type their number and PIN.</source>
        <translation>Для замены нужен второй руководитель: пусть введёт свой номер и ПИН-код.</translation>
    </message>
    <message>
        <source>The second supervisor&apos;s number or PIN is wrong.</source>
        <translation>Номер или ПИН-код второго руководителя неверный.</translation>
    </message>
</context>
<context>
    <name>HomePage</name>
    <message>
        <source>Good day, %1</source>
        <translation>Добрый день, %1</translation>
    </message>
    <message>
        <source>No registry connection is set up; nothing waits to be sent.</source>
        <translation>Связь с реестром не настроена; отправлять нечего.</translation>
    </message>
    <message numerus="yes">
        <source>%n status(es) wait; no registry connection is set up.</source>
        <translation>
            <numerusform>Ждёт отправки %n статус; связь с реестром не настроена.</numerusform>
            <numerusform>Ждут отправки %n статуса; связь с реестром не настроена.</numerusform>
            <numerusform>Ждут отправки %n статусов; связь с реестром не настроена.</numerusform>
        </translation>
    </message>
    <message>
        <source>Registry up to date: all statuses delivered.</source>
        <translation>Реестр в порядке: все статусы доставлены.</translation>
    </message>
    <message numerus="yes">
        <source>%n waiting, registry unreachable since %1</source>
        <translation>
            <numerusform>%n ждёт отправки, реестр недоступен с %1</numerusform>
            <numerusform>%n ждут отправки, реестр недоступен с %1</numerusform>
            <numerusform>%n ждут отправки, реестр недоступен с %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n status(es) being sent to the registry…</source>
        <translation>
            <numerusform>%n статус отправляется в реестр…</numerusform>
            <numerusform>%n статуса отправляются в реестр…</numerusform>
            <numerusform>%n статусов отправляются в реестр…</numerusform>
        </translation>
    </message>
    <message>
        <source>applications in the queue</source>
        <translation>заявок в очереди</translation>
    </message>
    <message>
        <source>cards produced today</source>
        <translation>карт изготовлено сегодня</translation>
    </message>
    <message>
        <source>handed over today</source>
        <translation>выдано сегодня</translation>
    </message>
    <message>
        <source>waiting for their member</source>
        <translation>ждут владельца</translation>
    </message>
    <message>
        <source>Printer: %1</source>
        <translation>Принтер: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n blank card(s) in stock</source>
        <translation>
            <numerusform>%n чистая карта на складе</numerusform>
            <numerusform>%n чистые карты на складе</numerusform>
            <numerusform>%n чистых карт на складе</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Ribbon left for %n card(s)</source>
        <translation>
            <numerusform>Ленты хватит на %n карту</numerusform>
            <numerusform>Ленты хватит на %n карты</numerusform>
            <numerusform>Ленты хватит на %n карт</numerusform>
        </translation>
    </message>
    <message>
        <source>order a new ribbon</source>
        <translation>закажите новую ленту</translation>
    </message>
    <message>
        <source>Make cards</source>
        <translation>Изготовить карты</translation>
    </message>
    <message>
        <source>Hand a card over</source>
        <translation>Выдать карту</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Обновить</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>Union card station</source>
        <translation>Станция выпуска профсоюзных билетов</translation>
    </message>
</context>
<context>
    <name>QueuePage</name>
    <message numerus="yes">
        <source>Queue: %n application(s)</source>
        <translation>
            <numerusform>Очередь: %n заявка</numerusform>
            <numerusform>Очередь: %n заявки</numerusform>
            <numerusform>Очередь: %n заявок</numerusform>
        </translation>
    </message>
    <message>
        <source>All organisations</source>
        <translation>Все организации</translation>
    </message>
    <message>
        <source>Organisation</source>
        <translation>Организация</translation>
    </message>
    <message>
        <source>Search by name or number</source>
        <translation>Поиск по имени или номеру</translation>
    </message>
    <message>
        <source>Held: %1</source>
        <translation>Отложена: %1</translation>
    </message>
    <message>
        <source>Preview of the card face for %1</source>
        <translation>Образец карты: %1</translation>
    </message>
    <message>
        <source>Choose an application to see its card</source>
        <translation>Выберите заявку, чтобы увидеть карту</translation>
    </message>
    <message>
        <source>Cards in this batch</source>
        <translation>Карт в партии</translation>
    </message>
    <message>
        <source>Fewer cards</source>
        <translation>Меньше карт</translation>
    </message>
    <message numerus="yes">
        <source>%n card(s) in the batch</source>
        <translation>
            <numerusform>%n карта в партии</numerusform>
            <numerusform>%n карты в партии</numerusform>
            <numerusform>%n карт в партии</numerusform>
        </translation>
    </message>
    <message>
        <source>More cards</source>
        <translation>Больше карт</translation>
    </message>
    <message numerus="yes">
        <source>Print %n card(s)</source>
        <translation>
            <numerusform>Напечатать %n карту</numerusform>
            <numerusform>Напечатать %n карты</numerusform>
            <numerusform>Напечатать %n карт</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReportsPage</name>
    <message>
        <source>Reports</source>
        <translation>Отчёты</translation>
    </message>
    <message numerus="yes">
        <source>Today: %n card(s) produced</source>
        <translation>
            <numerusform>Сегодня: изготовлена %n карта</numerusform>
            <numerusform>Сегодня: изготовлено %n карты</numerusform>
            <numerusform>Сегодня: изготовлено %n карт</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n handed over</source>
        <translation>
            <numerusform>выдана %n</numerusform>
            <numerusform>выдано %n</numerusform>
            <numerusform>выдано %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n waiting for handover</source>
        <translation>
            <numerusform>%n ждёт выдачи</numerusform>
            <numerusform>%n ждут выдачи</numerusform>
            <numerusform>%n ждут выдачи</numerusform>
        </translation>
    </message>
    <message>
        <source>By organisation: produced / handed over / spoiled / waiting</source>
        <translation>По организациям: изготовлено / выдано / испорчено / ждут выдачи</translation>
    </message>
    <message numerus="yes">
        <source>Not handed over for more than %n day(s)</source>
        <translation>
            <numerusform>Не выданы дольше %n дня</numerusform>
            <numerusform>Не выданы дольше %n дней</numerusform>
            <numerusform>Не выданы дольше %n дней</numerusform>
        </translation>
    </message>
    <message>
        <source>Fewer days</source>
        <translation>Меньше дней</translation>
    </message>
    <message>
        <source>More days</source>
        <translation>Больше дней</translation>
    </message>
    <message>
        <source>since %1</source>
        <comment>a date</comment>
        <translation>с %1</translation>
    </message>
    <message>
        <source>None.</source>
        <translation>Нет.</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <source>Settings</source>
        <translation>Настройки</translation>
    </message>
    <message>
        <source>Signed in: %1 (%2)</source>
        <translation>Вход выполнен: %1 (%2)</translation>
    </message>
    <message>
        <source>Station: %1</source>
        <translation>Станция: %1</translation>
    </message>
    <message>
        <source>This station runs in training mode: the printer and the cards are simulated and the statuses go to a training registry.</source>
        <translation>Станция работает в учебном режиме: принтер и карты имитируются, статусы уходят в учебный реестр.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Язык</translation>
    </message>
    <message>
        <source>Sign out</source>
        <translation>Выйти</translation>
    </message>
</context>
<context>
    <name>SignInPage</name>
    <message>
        <source>Sign in</source>
        <translation>Войти</translation>
    </message>
    <message>
        <source>Operator number</source>
        <translation>Номер оператора</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>ПИН-код</translation>
    </message>
    <message numerus="yes">
        <source>%n digit(s) of the PIN typed</source>
        <translation>
            <numerusform>Введена %n цифра ПИН-кода</numerusform>
            <numerusform>Введены %n цифры ПИН-кода</numerusform>
            <numerusform>Введено %n цифр ПИН-кода</numerusform>
        </translation>
    </message>
    <message>
        <source>The operator number or the PIN is wrong. Try again.</source>
        <translation>Неверный номер оператора или ПИН-код. Попробуйте ещё раз.</translation>
    </message>
    <message>
        <source>The card could not be read. Tap it again and hold it still.</source>
        <translation>Карту не удалось прочитать. Приложите её снова и держите неподвижно.</translation>
    </message>
    <message>
        <source>The desk reader is not available. Sign in with your PIN.</source>
        <translation>Считыватель на столе недоступен. Войдите по ПИН-коду.</translation>
    </message>
    <message>
        <source>Waiting for the staff card… (cancel)</source>
        <translation>Ждём служебную карту… (отменить)</translation>
    </message>
    <message>
        <source>Sign in with the staff card</source>
        <translation>Войти по служебной карте</translation>
    </message>
    <message>
        <source>Training: tap the supervisor&apos;s staff card</source>
        <translation>Обучение: приложить служебную карту старшего оператора</translation>
    </message>
    <message>
        <source>Type your operator number and PIN, or type your PIN and tap your staff card on the desk reader.</source>
        <translation>Введите номер оператора и ПИН-код или введите ПИН-код и приложите служебную карту к считывателю на столе.</translation>
    </message>
    <message>
        <source>This card is not a staff card of this station, or the PIN is wrong.</source>
        <translation>Эта карта не служебная карта этой станции, или ПИН-код неверный.</translation>
    </message>
    <message>
        <source>Type your PIN first, then tap your staff card.</source>
        <translation>Сначала введите ПИН-код, затем приложите служебную карту.</translation>
    </message>
    <message>
        <source>Too many wrong PINs. Wait a minute and try again.</source>
        <translation>Слишком много неверных ПИН-кодов. Подождите минуту и попробуйте снова.</translation>
    </message>
    <message>
        <source>Too many wrong PINs: this operator is locked. Ask a supervisor to unlock it.</source>
        <translation>Слишком много неверных ПИН-кодов: оператор заблокирован. Попросите руководителя разблокировать его.</translation>
    </message>
</context>
<context>
    <name>StationShell</name>
    <message numerus="yes">
        <source>%n status(es) wait for the registry</source>
        <translation>
            <numerusform>%n статус ждёт отправки в реестр</numerusform>
            <numerusform>%n статуса ждут отправки в реестр</numerusform>
            <numerusform>%n статусов ждут отправки в реестр</numerusform>
        </translation>
    </message>
    <message>
        <source>Union card station</source>
        <translation>Станция выпуска профсоюзных билетов</translation>
    </message>
    <message>
        <source>Home</source>
        <translation>Главная</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>Очередь</translation>
    </message>
    <message>
        <source>Batch</source>
        <translation>Партия</translation>
    </message>
    <message>
        <source>Handover</source>
        <translation>Выдача</translation>
    </message>
    <message>
        <source>Reports</source>
        <translation>Отчёты</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Настройки</translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message>
        <source>The feeder is empty. Load blank cards into the feeder.</source>
        <translation>Лоток подачи пуст. Положите чистые карты в лоток.</translation>
    </message>
    <message>
        <source>The ribbon is finished. Put in a new ribbon.</source>
        <translation>Лента закончилась. Установите новую ленту.</translation>
    </message>
    <message>
        <source>The printer&apos;s cover is open. Close the cover.</source>
        <translation>Крышка принтера открыта. Закройте крышку.</translation>
    </message>
    <message>
        <source>A card is stuck. Open the printer, take the card out, close it.</source>
        <translation>Карта застряла. Откройте принтер, выньте карту и закройте его.</translation>
    </message>
    <message>
        <source>A card is left in the printer. It will be rejected.</source>
        <translation>В принтере осталась карта. Она будет отбракована.</translation>
    </message>
    <message>
        <source>The printer does not answer. Check its power and cable.</source>
        <translation>Принтер не отвечает. Проверьте питание и кабель.</translation>
    </message>
    <message>
        <source>The printer is busy. Wait a moment.</source>
        <translation>Принтер занят. Подождите немного.</translation>
    </message>
    <message>
        <source>The encoder does not see the card. Call the supervisor.</source>
        <translation>Кодировщик не видит карту. Позовите старшего оператора.</translation>
    </message>
    <message>
        <source>The printer reports a problem (%1). Call the supervisor.</source>
        <translation>Принтер сообщает о неполадке (%1). Позовите старшего оператора.</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Готов</translation>
    </message>
    <message>
        <source>Printing</source>
        <translation>Печатает</translation>
    </message>
    <message>
        <source>Needs attention</source>
        <translation>Требует внимания</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>Не подключён</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Проверяем…</translation>
    </message>
    <message>
        <source>Taking a blank card</source>
        <translation>Подача чистой карты</translation>
    </message>
    <message>
        <source>Writing the chip</source>
        <translation>Запись чипа</translation>
    </message>
    <message>
        <source>Checking the chip</source>
        <translation>Проверка чипа</translation>
    </message>
    <message>
        <source>Printing the faces</source>
        <translation>Печать сторон карты</translation>
    </message>
    <message>
        <source>Ready for handover</source>
        <translation>Готова к выдаче</translation>
    </message>
    <message>
        <source>Handed over</source>
        <translation>Выдана</translation>
    </message>
    <message>
        <source>Refused</source>
        <translation>Отказ</translation>
    </message>
    <message>
        <source>Spoiled</source>
        <translation>Испорчена</translation>
    </message>
    <message>
        <source>Lost</source>
        <translation>Утеряна</translation>
    </message>
    <message>
        <source>Revoked</source>
        <translation>Отозвана</translation>
    </message>
    <message>
        <source>Replaced</source>
        <translation>Заменена</translation>
    </message>
    <message>
        <source>Supervisor</source>
        <translation>Старший оператор</translation>
    </message>
    <message>
        <source>Auditor</source>
        <translation>Аудитор</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Оператор</translation>
    </message>
</context>
</TS>

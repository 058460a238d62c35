<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU">
<context>
    <name>EventsPage</name>
    <message>
        <source>once per event</source>
        <translation>один раз за мероприятие</translation>
    </message>
    <message>
        <source>once a day</source>
        <translation>один раз в день</translation>
    </message>
    <message>
        <source>every tap counts</source>
        <translation>считается каждое касание</translation>
    </message>
    <message>
        <source>Desk mode</source>
        <translation>Режим стойки</translation>
    </message>
    <message>
        <source>Event check-in</source>
        <translation>Регистрация на мероприятии</translation>
    </message>
    <message>
        <source>Shop: yes or no only</source>
        <translation>Магазин: только «да» или «нет»</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Мероприятие</translation>
    </message>
    <message>
        <source>This desk has no events yet: sync with the registry or create one with unioncard-verifier event create.</source>
        <translation>На этой стойке пока нет мероприятий: синхронизируйтесь с реестром или создайте мероприятие командой unioncard-verifier event create.</translation>
    </message>
    <message numerus="yes">
        <source>%n checked in</source>
        <translation>
            <numerusform>%n участник отмечен</numerusform>
            <numerusform>%n участника отмечено</numerusform>
            <numerusform>%n участников отмечено</numerusform>
        </translation>
    </message>
    <message>
        <source>Back</source>
        <translation>Назад</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>No status list: offline answers cannot confirm</source>
        <translation>Нет списка статусов: без связи подтвердить нельзя</translation>
    </message>
    <message>
        <source>Status list: %1 old</source>
        <translation>Список статусов: обновлён %1 назад</translation>
    </message>
    <message>
        <source>Shop desk</source>
        <translation>Касса магазина</translation>
    </message>
    <message>
        <source>Reader: %1</source>
        <translation>Считыватель: %1</translation>
    </message>
</context>
<context>
    <name>ManualEntryPage</name>
    <message>
        <source>The number is complete. Press Check.</source>
        <translation>Номер введён полностью. Нажмите «Проверить».</translation>
    </message>
    <message numerus="yes">
        <source>%n of 16 digits</source>
        <translation>
            <numerusform>%n цифра из 16</numerusform>
            <numerusform>%n цифры из 16</numerusform>
            <numerusform>%n цифр из 16</numerusform>
        </translation>
    </message>
    <message>
        <source>A digit is wrong: the check digit does not match. Compare each group with the card.</source>
        <translation>Ошибка в цифрах: не сходится контрольная цифра. Сверьте каждую группу с картой.</translation>
    </message>
    <message>
        <source>Union card numbers start with 9643.</source>
        <translation>Номера профсоюзных карт начинаются с 9643.</translation>
    </message>
    <message>
        <source>Digits 5 and 6 name no region: check them.</source>
        <translation>Цифры 5 и 6 не соответствуют ни одному региону: проверьте их.</translation>
    </message>
    <message>
        <source>Too many digits.</source>
        <translation>Слишком много цифр.</translation>
    </message>
    <message>
        <source>Type the card number</source>
        <translation>Введите номер карты</translation>
    </message>
    <message>
        <source>The 16 digits on the front of the card, below the photo.</source>
        <translation>16 цифр на лицевой стороне карты, под фотографией.</translation>
    </message>
    <message>
        <source>Number typed: %1</source>
        <translation>Введённый номер: %1</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>Назад</translation>
    </message>
</context>
<context>
    <name>TapPage</name>
    <message>
        <source>Tap the card</source>
        <translation>Приложите карту</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Проверяем…</translation>
    </message>
    <message>
        <source>Cannot confirm offline</source>
        <translation>Нельзя подтвердить без связи</translation>
    </message>
    <message>
        <source>Yes: member in good standing</source>
        <translation>Да: член профсоюза, взносы в порядке</translation>
    </message>
    <message>
        <source>Valid</source>
        <translation>Действительна</translation>
    </message>
    <message>
        <source>Already checked in</source>
        <translation>Уже отмечен</translation>
    </message>
    <message>
        <source>No: not a member in good standing</source>
        <translation>Нет: не подтверждено членство в профсоюзе</translation>
    </message>
    <message>
        <source>Not valid</source>
        <translation>Недействительна</translation>
    </message>
    <message>
        <source>The number is in good standing. The card itself was not seen: compare the name with an ID if in doubt.</source>
        <translation>Номер действителен. Сама карта не проверялась: при сомнении сверьте имя с документом.</translation>
    </message>
    <message>
        <source>QR only: the chip was not checked, so this may be a photo of the card. Compare the face and name with the person.</source>
        <translation>Только QR: чип не проверялся, это может быть фотография карты. Сверьте лицо и имя с человеком.</translation>
    </message>
    <message>
        <source>This desk checks the card&apos;s chip, not its QR. Hold the card on the reader.</source>
        <translation>Этот пункт проверяет чип карты, а не QR-код. Приложите карту к считывателю.</translation>
    </message>
    <message>
        <source>Checked with the registry just now.</source>
        <translation>Проверено в реестре только что.</translation>
    </message>
    <message>
        <source>Checked against the status list on this device.</source>
        <translation>Проверено по списку статусов на этом устройстве.</translation>
    </message>
    <message>
        <source>Checked in at %1 at desk %2.</source>
        <translation>Отмечен %1 на стойке %2.</translation>
    </message>
    <message>
        <source>The card has been cancelled (lost, replaced or membership ended). Keep it and call staff.</source>
        <translation>Карта аннулирована (утеряна, заменена или членство прекращено). Оставьте карту у себя и позовите сотрудника.</translation>
    </message>
    <message>
        <source>The membership is suspended. Ask the member to contact their union office.</source>
        <translation>Членство приостановлено. Попросите обратиться в свою профсоюзную организацию.</translation>
    </message>
    <message>
        <source>The card has expired. The member can get a new one at the union office.</source>
        <translation>Срок действия карты истёк. Новую карту можно получить в профсоюзной организации.</translation>
    </message>
    <message>
        <source>The card is not valid yet.</source>
        <translation>Карта ещё не действует.</translation>
    </message>
    <message>
        <source>The card's data has been altered: it is not genuine. Call staff.</source>
        <translation>Данные карты изменены: карта не подлинная. Позовите сотрудника.</translation>
    </message>
    <message>
        <source>The card was not issued by a station this desk trusts. Call staff.</source>
        <translation>Карта выпущена не доверенной станцией. Позовите сотрудника.</translation>
    </message>
    <message>
        <source>The chip failed its check: the card may be a copy. Call staff.</source>
        <translation>Чип не прошёл проверку: возможно, это копия. Позовите сотрудника.</translation>
    </message>
    <message>
        <source>This is not a union card.</source>
        <translation>Это не профсоюзная карта.</translation>
    </message>
    <message>
        <source>The card could not be read. Hold it still on the reader and try again.</source>
        <translation>Карту не удалось прочитать. Приложите её и держите неподвижно.</translation>
    </message>
    <message>
        <source>The card is genuine, but its status cannot be checked here. Check it online or ask staff.</source>
        <translation>Карта подлинная, но её статус здесь проверить нельзя. Проверьте при наличии связи или спросите сотрудника.</translation>
    </message>
    <message>
        <source>Valid until %1</source>
        <translation>Действительна до %1</translation>
    </message>
    <message>
        <source>Hold the member's card flat on the reader. Only yes or no is shown.</source>
        <translation>Приложите карту покупателя к считывателю. Показывается только «да» или «нет».</translation>
    </message>
    <message>
        <source>Hold the card flat on the reader until the screen changes colour.</source>
        <translation>Держите карту на считывателе, пока экран не сменит цвет.</translation>
    </message>
    <message numerus="yes">
        <source>%n checked in</source>
        <translation>
            <numerusform>%n участник отмечен</numerusform>
            <numerusform>%n участника отмечено</numerusform>
            <numerusform>%n участников отмечено</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n repeat tap(s)</source>
        <translation>
            <numerusform>%n повторное касание</numerusform>
            <numerusform>%n повторных касания</numerusform>
            <numerusform>%n повторных касаний</numerusform>
        </translation>
    </message>
    <message>
        <source>Event and mode</source>
        <translation>Мероприятие и режим</translation>
    </message>
    <message>
        <source>Type the number</source>
        <translation>Ввести номер</translation>
    </message>
    <message>
        <source>Training: put a simulated card on the reader:</source>
        <translation>Обучение: приложите учебную карту:</translation>
    </message>
    <message>
        <source>Valid card</source>
        <translation>Действующая карта</translation>
    </message>
    <message>
        <source>Another valid card</source>
        <translation>Другая действующая карта</translation>
    </message>
    <message>
        <source>Cancelled card</source>
        <translation>Аннулированная карта</translation>
    </message>
    <message>
        <source>Expired card</source>
        <translation>Просроченная карта</translation>
    </message>
    <message>
        <source>Card newer than the list</source>
        <translation>Карта новее списка</translation>
    </message>
    <message>
        <source>Copied card</source>
        <translation>Копия карты</translation>
    </message>
    <message>
        <source>Not a union card</source>
        <translation>Не профсоюзная карта</translation>
    </message>
    <message>
        <source>No cancellation is listed for this number, but a typed number can be confirmed only online. Ask for the card.</source>
        <translation>Этот номер не числится среди аннулированных, но введённый вручную номер можно подтвердить только при наличии связи. Попросите карту.</translation>
    </message>
</context>
</TS>

// SPDX-License-Identifier: Apache-2.0
// Writes the image of a DESFire card of another system (one application of its own, 0xF48EF1,
// none of the union's) for the lab: `foreign_card IMAGE`. The card side is sim's virtual
// DESFire; the application is made with cardlib's client, as any host would.

#include <unioncard/card/desfire/desfire.hpp>
#include <unioncard/sim/card_image.hpp>
#include <unioncard/sim/in_process_connection.hpp>
#include <unioncard/sim/virtual_desfire.hpp>

#include <iostream>

namespace {} // namespace

int main(int argc, char** argv) {
    using namespace unioncard;
    if (argc != 2) {
        std::cerr << "usage: foreign_card IMAGE\n";
        return 2;
    }
    sim::VirtualDesfire chip;
    unioncard::sim::InProcessConnection reader(chip);
    card::desfire::Desfire d(reader);
    if (!d.authenticateLegacy(0, card::Bytes(16, 0)) ||
        !d.run(card::desfire::cmd::createApplication(0xF48EF1, 0x0F, 1,
                                                     card::desfire::KeyType::Aes128))) {
        std::cerr << "foreign_card: could not create the application\n";
        return 1;
    }
    chip.powerOff();
    if (!sim::saveCard(chip, argv[1])) {
        std::cerr << "foreign_card: could not write " << argv[1] << "\n";
        return 1;
    }
    return 0;
}

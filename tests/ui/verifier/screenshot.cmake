# SPDX-License-Identifier: Apache-2.0
# One screenshot under Xvfb, compared with its golden by the program itself (a share of pixels
# may differ: antialiasing), then copied to docs/screenshots/. Skips (77) without xvfb-run.
if(NOT XVFB_RUN)
  message(STATUS "xvfb-run is not installed (Debian: xvfb): skipping")
  cmake_language(EXIT 77)
endif()
execute_process(
    COMMAND ${XVFB_RUN} -a -s "-screen 0 1280x800x24"
            ${APP} --screenshot ${SCREEN} --lang ${LANG} --out ${OUT} --golden ${GOLDEN} --silent
    RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "screen ${SCREEN} (${LANG}) differs from ${GOLDEN} (see ${OUT})")
endif()
if("$ENV{UNIONCARD_UPDATE_GOLDEN}" STREQUAL "1")
  file(COPY_FILE ${OUT} ${DOCS})
endif()

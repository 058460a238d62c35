# SPDX-License-Identifier: Apache-2.0
# One station screen under Xvfb, compared with its golden by the program (--golden: a small
# share of pixels may differ, antialiasing and today's date on the card); with
# UNIONCARD_UPDATE_GOLDEN=1 the golden is rewritten and copied to docs/screenshots/.
# Skips (77) without xvfb-run.
if(NOT XVFB_RUN)
  message(STATUS "xvfb-run is not installed (Debian: xvfb): skipping")
  cmake_language(EXIT 77)
endif()
execute_process(
    COMMAND ${XVFB_RUN} -a -s "-screen 0 1280x800x24"
            ${APP} --screenshot ${SCREEN} --lang ${LANG} --out ${OUT} --golden ${GOLDEN}
    RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "station screen ${SCREEN} (${LANG}) differs from ${GOLDEN} (see ${OUT})")
endif()
if("$ENV{UNIONCARD_UPDATE_GOLDEN}" STREQUAL "1")
  file(COPY_FILE ${OUT} ${DOCS})
endif()

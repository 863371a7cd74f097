list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/collective_command_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sizes_test.cpp)

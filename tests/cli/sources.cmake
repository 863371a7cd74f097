list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/bad_input_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/calibrate_command_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/collective_command_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/perfetto_trace_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/scenario_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/schema_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sizes_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_command_test.cpp)

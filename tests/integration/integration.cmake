# Integration tests: the real autodisco binary driven by clients we did not write.
# They use Debian's python3 (which has python3-exchangelib), not whatever python3 is first on PATH.
set(AD_PY /usr/bin/python3)
file(GLOB py_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_*.py)
foreach(t ${py_tests})
  get_filename_component(name ${t} NAME_WE)
  add_test(NAME integration.${name} COMMAND ${AD_PY} ${t})
  set_tests_properties(integration.${name} PROPERTIES
    ENVIRONMENT "AD_BIN=$<TARGET_FILE:autodisco>;AD_SOURCE_DIR=${PROJECT_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1"
    SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()

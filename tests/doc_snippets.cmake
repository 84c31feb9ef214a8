# SPDX-License-Identifier: Apache-2.0
# cmake -P script: compiles every ```cpp block of the Markdown files given against pare, so the
# code in README.md and docs/*.md stays code that compiles.
#
# Inputs: DOCS (the .md files, relative to the working directory, joined with '|'), WORK (a
# scratch folder), CXX (the compiler), FLAGS (its flags, joined with '|': -std, -I, -D), HDF5
# (ON when pare::hdf5 exists).
#
# How a block is compiled (the convention writers of docs follow):
#   - a block with `int main(` is a complete program and is compiled as it stands;
#   - any other block is a fragment, compiled as the body of a function;
#   - an HTML comment right before the block's fence (only blank lines between) gives hidden
#     context, invisible on the rendered page:
#       <!-- snippet
#       pare::Tensor<float, 2> w({8, 64});      (declarations the fragment uses)
#       -->
#     and `<!-- snippet: file` instead makes the fragment (and its context) namespace-scope
#     code: declarations, concepts, structs with member templates;
#   - `#include` lines of a block or its context are hoisted to the top of the file; the file
#     also includes pare/pare.hpp and pare/io/load_model.hpp for every block;
#   - a block that includes pare/io/hdf5.hpp is compiled only when pare::hdf5 exists.
# Every block goes into one translation unit (each in its own namespace), checked with
# -fsyntax-only: parsing pare's headers once for all documents is most of the cost (~12 s of
# CPU), each block adds little. #line directives make the compiler name the .md file and its
# lines; the script fails naming each snippet (file:line of its fence) that does not compile.
cmake_minimum_required(VERSION 3.25)

file(MAKE_DIRECTORY ${WORK})

# Text is walked line by line with string(FIND), never as a CMake list: C++ is full of ';' and
# of '[' ']', which list splitting would mangle.
macro(pop_line var rest)
  string(FIND "${${rest}}" "\n" nl)
  if(nl EQUAL -1)
    set(${var} "${${rest}}")
    set(${rest} "")
  else()
    string(SUBSTRING "${${rest}}" 0 ${nl} ${var})
    math(EXPR nl "${nl} + 1")
    string(SUBSTRING "${${rest}}" ${nl} -1 ${rest})
  endif()
endmacro()

# Moves the #include lines of `src` into `includes` (left blank in place, so line numbers hold).
function(hoist_includes src out_var)
  set(out "")
  set(rest "${src}")
  while(NOT rest STREQUAL "")
    pop_line(l rest)
    string(STRIP "${l}" s)
    if(s MATCHES "^#include")
      string(APPEND includes "${s}\n")
      string(APPEND out "\n")
    else()
      string(APPEND out "${l}\n")
    endif()
  endwhile()
  set(${out_var} "${out}" PARENT_SCOPE)
  set(includes "${includes}" PARENT_SCOPE)
endfunction()

set(includes "#include \"pare/pare.hpp\"\n#include \"pare/io/load_model.hpp\"\n")
set(bodies "")
set(snippets "")  # one "doc|first line|fence line" per compiled block
string(REPLACE "|" ";" docs "${DOCS}")
foreach(doc IN LISTS docs)
  string(MAKE_C_IDENTIFIER "${doc}" doc_id)
  file(READ ${doc} text)
  set(state text)  # text | comment | code
  set(line_no 0)
  set(context "")
  set(context_scope function)
  set(context_end -1)  # > 0 right after a snippet comment: the next fence takes its context
  while(NOT text STREQUAL "")
    pop_line(raw text)
    math(EXPR line_no "${line_no} + 1")
    string(STRIP "${raw}" line)
    if(state STREQUAL "text")
      if(line MATCHES "^<!-- snippet(:[ ]*file)?$")
        set(state comment)
        set(context "")
        math(EXPR context_first "${line_no} + 1")
        if(CMAKE_MATCH_1)
          set(context_scope file)
        else()
          set(context_scope function)
        endif()
      elseif(line STREQUAL "```cpp")
        set(state code)
        set(code "")
        set(fence ${line_no})
        if(context_end GREATER 0)
          set(block_context "${context}")
          set(block_scope ${context_scope})
          set(block_first ${context_first})
        else()
          set(block_context "")
          set(block_scope function)
          set(block_first ${line_no})
        endif()
        set(context_end -1)
      elseif(NOT line STREQUAL "")
        set(context_end -1)  # a comment applies only to the block right after it
      endif()
    elseif(state STREQUAL "comment")
      if(line STREQUAL "-->")
        set(state text)
        set(context_end ${line_no})
      else()
        string(APPEND context "${raw}\n")
      endif()
    else()  # code
      if(NOT line STREQUAL "```")
        string(APPEND code "${raw}\n")
        continue()
      endif()
      set(state text)
      if("${code}${block_context}" MATCHES "pare/io/hdf5.hpp" AND NOT HDF5)
        message(STATUS "${doc}:${fence}: skipped (pare::hdf5 is not built)")
        continue()
      endif()
      hoist_includes("${block_context}" context_kept)
      hoist_includes("${code}" code_kept)
      math(EXPR code_first "${fence} + 1")
      set(ns "snippet_${doc_id}_${fence}")
      set(at_context "#line ${block_first} \"${doc}\"\n")
      set(at_code "#line ${code_first} \"${doc}\"\n")
      if(code MATCHES "int main\\(")
        # A whole program: its main becomes an ordinary function of its namespace.
        string(REPLACE "int main(" "int snippet_main(" code_kept "${code_kept}")
        string(APPEND bodies "namespace ${ns} {\n${at_context}${context_kept}${at_code}"
                             "${code_kept}}  // namespace ${ns}\n")
      elseif(block_scope STREQUAL "file")
        string(APPEND bodies "namespace ${ns} {\n${at_context}${context_kept}${at_code}"
                             "${code_kept}}  // namespace ${ns}\n")
      else()
        string(APPEND bodies "namespace ${ns} {\n[[maybe_unused]] void run() {\n${at_context}"
                             "${context_kept}${at_code}${code_kept}}\n}  // namespace ${ns}\n")
      endif()
      list(APPEND snippets "${doc}|${block_first}|${fence}")
    endif()
  endwhile()
endforeach()

list(LENGTH snippets n)
if(n EQUAL 0)
  message(STATUS "no C++ snippets")
  return()
endif()
set(tu ${WORK}/doc_snippets.cpp)
file(WRITE ${tu} "// Generated by tests/doc_snippets.cmake from ${DOCS}\n${includes}\n${bodies}")
string(REPLACE "|" ";" all_flags "${FLAGS}")
set(flags "")
foreach(f IN LISTS all_flags)
  # An empty -I/-D (a target without any), and -I of the system folder: it would put
  # /usr/include before the compiler's own headers and break their #include_next.
  if(NOT f MATCHES "^-[ID]$" AND NOT f STREQUAL "-I/usr/include")
    list(APPEND flags "${f}")
  endif()
endforeach()
list(REMOVE_DUPLICATES flags)
execute_process(COMMAND ${CXX} ${flags} -fsyntax-only -w ${tu}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(STATUS "${n} C++ snippets compile")
  return()
endif()

# Name the snippets the errors are in: errors reported at a line of a .md (through #line), and
# errors inside pare's headers "required from here" in one.
set(bad "")
set(rest "${err}")
while(NOT rest STREQUAL "")
  pop_line(e rest)
  if(NOT e MATCHES "(error:|required from here)" OR NOT e MATCHES "^([^:]+\\.md):([0-9]+):")
    continue()
  endif()
  set(doc ${CMAKE_MATCH_1})
  set(at ${CMAKE_MATCH_2})
  set(owner "")
  foreach(s IN LISTS snippets)
    string(REPLACE "|" ";" parts "${s}")
    list(GET parts 0 s_doc)
    list(GET parts 1 s_first)
    list(GET parts 2 s_fence)
    if(s_doc STREQUAL doc AND NOT at LESS s_first)
      set(owner "${doc}:${s_fence}")
    endif()
  endforeach()
  if(owner AND NOT owner IN_LIST bad)
    list(APPEND bad "${owner}")
  endif()
endwhile()
list(JOIN bad "\n  " bad_text)
message(FATAL_ERROR "C++ snippets that do not compile (file:line of the ```cpp fence):\n  "
                    "${bad_text}\n(generated translation unit: ${tu})\n${err}")

// Path handling: absolute() against Node's own resolver, on POSIX paths that
// are already normal (returned as they are) and on those that are not.

import { test } from "node:test";
import assert from "node:assert/strict";
import { posix, win32 } from "node:path";
import { absolute, dirname, join, toPath } from "../core/_path.ts";

const PARTS = ["a", "b.c", ".d", "...", "é", ".", "..", "", "e f"];

/** Every path of up to three parts from PARTS, absolute and relative. */
function* paths(): Generator<string> {
  const build = function* (depth: number, prefix: string): Generator<string> {
    yield prefix;
    if (depth === 0) return;
    for (const part of PARTS) {
      yield* build(depth - 1, prefix + (prefix.endsWith("/") ? "" : "/") + part);
    }
  };
  for (const path of build(3, "/")) {
    yield path;
    yield path + "/";
    yield path.slice(1) || ".";
  }
}

test("absolute() normalises POSIX paths as path.posix.resolve does", () => {
  let checked = 0;
  for (const path of paths()) {
    assert.equal(absolute(path, "/cwd/x", "posix"), posix.resolve("/cwd/x", path), path);
    checked++;
  }
  assert.ok(checked > 1000);
  // The working directory is asked for only when the path is relative.
  assert.equal(absolute("/a/b", () => assert.fail("cwd asked"), "posix"), "/a/b");
});

test("absolute() normalises repeated separators and dot parts anywhere in a POSIX path", () => {
  for (
    const path of [
      "//a",
      "/a//b",
      "/a/b//",
      "/a/./b",
      "/a/../b",
      "/a/b/..",
      "/a/b/.",
      "/.../a",
      "/a/..b/c",
      "/a/b../c",
      "/.a/.b",
      "/a/.",
    ]
  ) {
    assert.equal(absolute(path, "/cwd", "posix"), posix.resolve("/cwd", path), path);
  }
});

test("absolute() and toPath() answer each path for itself, whatever came before", () => {
  // Each keeps the last path it found fine as it is; a different path is looked at afresh.
  for (let round = 0; round < 2; round++) {
    assert.equal(absolute("/a/b", "/cwd", "posix"), "/a/b");
    assert.equal(absolute("/a/b", "/cwd", "posix"), "/a/b");
    assert.equal(absolute("/a/b/", "/cwd", "posix"), "/a/b");
    assert.equal(absolute("a/b", "/cwd", "posix"), "/cwd/a/b");
    assert.equal(absolute("a/b", "/other", "posix"), "/other/a/b");
    assert.equal(absolute("/a/b", "/cwd", "posix"), "/a/b");
    assert.equal(toPath("/a/b", "posix"), "/a/b");
    assert.equal(toPath("/a/b", "posix"), "/a/b");
    assert.throws(() => toPath("/a/b\0", "posix"), TypeError);
    assert.throws(() => toPath("", "posix"), TypeError);
    assert.throws(() => toPath(undefined, "posix"), TypeError);
    assert.equal(toPath(new URL("file:///a/b"), "posix"), "/a/b");
    assert.equal(toPath("/a/b", "posix"), "/a/b");
  }
});

test("dirname() and join() on POSIX paths agree with path.posix", () => {
  for (const path of ["/", "/a", "/a/b", "/a/b.c/d e", "/.a/..b/c"]) {
    assert.equal(dirname(path, "posix"), posix.dirname(path), path);
    assert.equal(join(path, "n", "posix"), posix.join(path, "n"), path);
  }
  // A backslash is an ordinary character in a POSIX name, not a separator.
  assert.equal(join("/a\\", "n", "posix"), "/a\\/n");
});

test("absolute() normalises Windows paths as path.win32.resolve does", () => {
  for (
    const path of [
      "C:\\a\\b",
      "C:\\a\\.\\b\\..\\c\\",
      "\\\\srv\\share\\a\\..\\b",
      "\\a\\b",
      "\\a\\..\\b\\",
    ]
  ) {
    assert.equal(absolute(path, "C:\\cwd", "windows"), win32.resolve("C:\\cwd", path), path);
    assert.equal(
      absolute(path, "\\\\srv\\share\\cwd", "windows"),
      win32.resolve("\\\\srv\\share\\cwd", path),
      path,
    );
  }
  // Rooted without a drive, in forward slashes: the drive is added, the style kept.
  assert.equal(absolute("/a/b", "D:\\cwd", "windows"), "D:/a/b");
  assert.equal(absolute("a\\b", "C:\\cwd", "windows"), "C:\\cwd\\a\\b");
  // A path written with forward slashes only keeps them.
  assert.equal(absolute("C:/a//b/./c", "C:\\cwd", "windows"), "C:/a/b/c");
});

test("absolute() reads a Windows path relative to the working directory's drive against it, and refuses another drive's", () => {
  for (const path of ["C:a\\b", "C:..\\x\\.\\y", "C:", "C:a/b"]) {
    assert.equal(absolute(path, "C:\\cwd", "windows"), win32.resolve("C:\\cwd", path), path);
  }
  // The drive letter in either case is the same drive.
  assert.equal(absolute("c:a", "C:\\cwd", "windows"), "C:\\cwd\\a");
  // Another drive's working directory is its own, not known here: no guess.
  for (const [path, cwd] of [["D:a", "C:\\cwd"], ["C:a", "\\\\srv\\share\\cwd"]]) {
    assert.throws(() => absolute(path, cwd, "windows"), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /relative to drive .:'s own working directory.*absolute path/);
      return true;
    }, path);
  }
});

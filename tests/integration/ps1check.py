"""A structural reader for the kit's PowerShell (PowerShell itself is not on Debian): it splits
a script into code, comments and strings the way the PowerShell tokenizer does for what the
kit uses — '#' and '<# #>' comments, '...' strings with '' inside, "..." strings with backtick
escapes and $( ) subexpressions — and answers the questions the tests ask: are the brackets
balanced, which commands are called, which functions are defined and what their bodies say,
what do the double-quoted strings hold."""
import re


class Ps1Error(ValueError):
    pass


class Script:
    def __init__(self, text):
        self.text = text
        self.code = []      # the code with every string and comment blanked to spaces
        self.dq = []        # (line, contents) of each double-quoted string
        self._scan()
        self.code = "".join(self.code)

    def _scan(self):
        t = self.text
        i = 0
        stack = []
        line = 1

        def blank(s):
            return re.sub(r"[^\n]", " ", s)

        while i < len(t):
            ch = t[i]
            if t.startswith("<#", i):
                end = t.find("#>", i + 2)
                if end < 0:
                    raise Ps1Error(f"line {line}: a block comment without #>")
                self.code.append(blank(t[i:end + 2]))
                line += t.count("\n", i, end + 2)
                i = end + 2
            elif ch == "#":
                end = t.find("\n", i)
                end = len(t) if end < 0 else end
                self.code.append(blank(t[i:end]))
                i = end
            elif ch == "'":
                j = i + 1
                while True:
                    j = t.find("'", j)
                    if j < 0:
                        raise Ps1Error(f"line {line}: a '...' string without its end")
                    if t.startswith("''", j):
                        j += 2
                        continue
                    break
                self.code.append("'" + blank(t[i + 1:j]) + "'")
                line += t.count("\n", i, j)
                i = j + 1
            elif ch == '"':
                j = i + 1
                depth = 0
                while j < len(t):
                    if t[j] == "`":
                        j += 2
                        continue
                    if t.startswith("$(", j):
                        depth += 1
                        j += 2
                        continue
                    if depth > 0 and t[j] == ")":
                        depth -= 1
                    elif depth == 0 and t[j] == '"':
                        break
                    j += 1
                if j >= len(t):
                    raise Ps1Error(f"line {line}: a \"...\" string without its end")
                self.dq.append((line, t[i + 1:j]))
                self.code.append('"' + blank(t[i + 1:j]) + '"')
                line += t.count("\n", i, j)
                i = j + 1
            else:
                if ch in "({[":
                    stack.append((ch, line))
                elif ch in ")}]":
                    want = {")": "(", "}": "{", "]": "["}[ch]
                    if not stack or stack[-1][0] != want:
                        raise Ps1Error(f"line {line}: {ch!r} closes nothing open")
                    stack.pop()
                elif ch == "`":
                    self.code.append(t[i:i + 2])
                    i += 2
                    continue
                if ch == "\n":
                    line += 1
                self.code.append(ch)
                i += 1
        if stack:
            raise Ps1Error(f"line {stack[-1][1]}: {stack[-1][0]!r} is never closed")

    def commands(self):
        """Verb-Noun names used in the code (cmdlets and functions), with their lines."""
        out = {}
        for m in re.finditer(r"(?<![\w$.-])([A-Z][a-z]+-[A-Z][A-Za-z0-9]*)\b", self.code):
            out.setdefault(m.group(1), self.code.count("\n", 0, m.start()) + 1)
        return out

    def functions(self):
        """{name: body} of each `function Name(...) { body }`."""
        out = {}
        for m in re.finditer(r"(?m)^function ([A-Za-z]+-[A-Za-z]+)\b[^{]*\{", self.code):
            depth = 1
            i = m.end()
            while depth > 0:
                depth += {"{": 1, "}": -1}.get(self.code[i], 0)
                i += 1
            out[m.group(1)] = (m.start(), i)
        return out

    def body(self, name):
        start, end = self.functions()[name]
        return self.code[start:end]

    def enclosing_function(self, pos):
        for name, (start, end) in self.functions().items():
            if start <= pos < end:
                return name
        return None

//! Point formulas compiled into programs of Fp operations, which the WGSL kernels run
//! with a small interpreter (`ec/point.wgsl`).
//!
//! Why: GPU compilers inline every function call. Written as straight-line WGSL, one G2
//! addition holds 36 inlined Fp multiplications and ~60 additions, and a kernel that adds
//! in several places grows to tens of thousands of instructions: Mesa's lavapipe then
//! takes minutes to compile one pipeline. As a program over a register file, every
//! kernel holds one multiplier, one adder and one subtractor, whatever the formula, and
//! compiles in seconds. All invocations run the same program, so the interpreter never
//! diverges; the cost is register-file traffic to local memory, small next to the
//! 1,800 multiply-adds of each Fp multiplication.
//!
//! The formulas are written once here, generic over the coordinate field: Fp for G1,
//! Fp2 for G2 (whose operations expand into Fp operations). Tracing them yields a
//! sequence of SSA values; a linear-scan pass assigns registers, reusing a register once
//! its value is dead.

use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Mul = 0,
    Add = 1,
    Sub = 2,
}

/// A recorded computation: values `0..inputs` are inputs, each op defines the next value.
#[derive(Default)]
struct Trace {
    inputs: usize,
    ops: Vec<(Op, usize, usize)>,
}

impl Trace {
    fn input(&mut self) -> usize {
        assert!(self.ops.is_empty(), "inputs come first");
        self.inputs += 1;
        self.inputs - 1
    }

    fn op(&mut self, op: Op, a: usize, b: usize) -> usize {
        self.ops.push((op, a, b));
        self.inputs + self.ops.len() - 1
    }
}

/// A coordinate field, as values of a trace.
trait Field: Copy {
    fn input(t: &mut Trace) -> Self;
    fn add(t: &mut Trace, a: Self, b: Self) -> Self;
    fn sub(t: &mut Trace, a: Self, b: Self) -> Self;
    fn mul(t: &mut Trace, a: Self, b: Self) -> Self;
    fn square(t: &mut Trace, a: Self) -> Self;
    /// Multiplication by 3b, the curve constant the complete formulas use.
    fn mul_b3(t: &mut Trace, a: Self) -> Self;
    fn values(self) -> Vec<usize>;
}

#[derive(Clone, Copy)]
struct Fp(usize);

impl Field for Fp {
    fn input(t: &mut Trace) -> Self {
        Fp(t.input())
    }
    fn add(t: &mut Trace, a: Self, b: Self) -> Self {
        Fp(t.op(Op::Add, a.0, b.0))
    }
    fn sub(t: &mut Trace, a: Self, b: Self) -> Self {
        Fp(t.op(Op::Sub, a.0, b.0))
    }
    fn mul(t: &mut Trace, a: Self, b: Self) -> Self {
        Fp(t.op(Op::Mul, a.0, b.0))
    }
    fn square(t: &mut Trace, a: Self) -> Self {
        Self::mul(t, a, a)
    }
    /// G1: b = 4, 3b = 12 = 8 + 4, by additions.
    fn mul_b3(t: &mut Trace, a: Self) -> Self {
        let a2 = Self::add(t, a, a);
        let a4 = Self::add(t, a2, a2);
        let a8 = Self::add(t, a4, a4);
        Self::add(t, a8, a4)
    }
    fn values(self) -> Vec<usize> {
        vec![self.0]
    }
}

/// c0 + c1·i with i^2 = -1.
#[derive(Clone, Copy)]
struct Fp2(Fp, Fp);

impl Field for Fp2 {
    fn input(t: &mut Trace) -> Self {
        Fp2(Fp::input(t), Fp::input(t))
    }
    fn add(t: &mut Trace, a: Self, b: Self) -> Self {
        Fp2(Fp::add(t, a.0, b.0), Fp::add(t, a.1, b.1))
    }
    fn sub(t: &mut Trace, a: Self, b: Self) -> Self {
        Fp2(Fp::sub(t, a.0, b.0), Fp::sub(t, a.1, b.1))
    }
    /// Karatsuba: three Fp multiplications.
    fn mul(t: &mut Trace, a: Self, b: Self) -> Self {
        let v0 = Fp::mul(t, a.0, b.0);
        let v1 = Fp::mul(t, a.1, b.1);
        let sa = Fp::add(t, a.0, a.1);
        let sb = Fp::add(t, b.0, b.1);
        let s = Fp::mul(t, sa, sb);
        let c0 = Fp::sub(t, v0, v1);
        let s0 = Fp::sub(t, s, v0);
        Fp2(c0, Fp::sub(t, s0, v1))
    }
    /// (c0 + c1)(c0 - c1) + 2·c0·c1·i: two Fp multiplications.
    fn square(t: &mut Trace, a: Self) -> Self {
        let s = Fp::add(t, a.0, a.1);
        let d = Fp::sub(t, a.0, a.1);
        let c0 = Fp::mul(t, s, d);
        let m = Fp::mul(t, a.0, a.1);
        Fp2(c0, Fp::add(t, m, m))
    }
    /// G2: b = 4(1 + i): (c0 + c1·i)(1 + i) = (c0 - c1) + (c0 + c1)·i, times 12.
    fn mul_b3(t: &mut Trace, a: Self) -> Self {
        let re = Fp::sub(t, a.0, a.1);
        let im = Fp::add(t, a.0, a.1);
        Fp2(Fp::mul_b3(t, re), Fp::mul_b3(t, im))
    }
    fn values(self) -> Vec<usize> {
        vec![self.0.0, self.1.0]
    }
}

/// Complete addition for a = 0 in homogeneous projective coordinates: Renes, Costello
/// and Batina, "Complete addition formulas for prime order elliptic curves" (2015),
/// algorithm 7. Correct for every pair of inputs, equal, opposite or the identity.
fn add<F: Field>(t: &mut Trace, p: [F; 3], q: [F; 3]) -> [F; 3] {
    let [x1, y1, z1] = p;
    let [x2, y2, z2] = q;
    let mut t0 = F::mul(t, x1, x2);
    let mut t1 = F::mul(t, y1, y2);
    let mut t2 = F::mul(t, z1, z2);
    let mut t3 = F::add(t, x1, y1);
    let mut t4 = F::add(t, x2, y2);
    t3 = F::mul(t, t3, t4);
    t4 = F::add(t, t0, t1);
    t3 = F::sub(t, t3, t4);
    t4 = F::add(t, y1, z1);
    let mut x3 = F::add(t, y2, z2);
    t4 = F::mul(t, t4, x3);
    x3 = F::add(t, t1, t2);
    t4 = F::sub(t, t4, x3);
    x3 = F::add(t, x1, z1);
    let mut y3 = F::add(t, x2, z2);
    x3 = F::mul(t, x3, y3);
    y3 = F::add(t, t0, t2);
    y3 = F::sub(t, x3, y3);
    x3 = F::add(t, t0, t0);
    t0 = F::add(t, x3, t0);
    t2 = F::mul_b3(t, t2);
    let mut z3 = F::add(t, t1, t2);
    t1 = F::sub(t, t1, t2);
    y3 = F::mul_b3(t, y3);
    x3 = F::mul(t, t4, y3);
    t2 = F::mul(t, t3, t1);
    x3 = F::sub(t, t2, x3);
    y3 = F::mul(t, y3, t0);
    t1 = F::mul(t, t1, z3);
    y3 = F::add(t, t1, y3);
    t0 = F::mul(t, t0, t3);
    z3 = F::mul(t, z3, t4);
    z3 = F::add(t, z3, t0);
    [x3, y3, z3]
}

/// Complete doubling for a = 0: the same paper, algorithm 9.
fn double<F: Field>(t: &mut Trace, p: [F; 3]) -> [F; 3] {
    let [x, y, z] = p;
    let mut t0 = F::square(t, y);
    let mut z3 = F::add(t, t0, t0);
    z3 = F::add(t, z3, z3);
    z3 = F::add(t, z3, z3);
    let mut t1 = F::mul(t, y, z);
    let mut t2 = F::square(t, z);
    t2 = F::mul_b3(t, t2);
    let mut x3 = F::mul(t, t2, z3);
    let mut y3 = F::add(t, t0, t2);
    z3 = F::mul(t, t1, z3);
    t1 = F::add(t, t2, t2);
    t2 = F::add(t, t1, t2);
    t0 = F::sub(t, t0, t2);
    y3 = F::mul(t, t0, y3);
    y3 = F::add(t, x3, y3);
    t1 = F::mul(t, x, y);
    x3 = F::mul(t, t0, t1);
    x3 = F::add(t, x3, x3);
    [x3, y3, z3]
}

/// A traced formula with registers assigned.
struct Program {
    /// op << 24 | dst << 16 | a << 8 | b.
    code: Vec<u32>,
    /// Registers holding the output coordinates' Fp components.
    outputs: Vec<usize>,
    registers: usize,
}

fn compile(trace: &Trace, outputs: &[usize]) -> Program {
    let values = trace.inputs + trace.ops.len();
    let mut last_use = vec![0usize; values];
    for (i, &(_, a, b)) in trace.ops.iter().enumerate() {
        last_use[a] = i;
        last_use[b] = i;
    }
    for &o in outputs {
        last_use[o] = usize::MAX;
    }
    let mut register = vec![usize::MAX; values];
    let mut free: Vec<usize> = Vec::new();
    let mut registers = trace.inputs;
    for (v, r) in register.iter_mut().enumerate().take(trace.inputs) {
        *r = v;
    }
    let mut code = Vec::with_capacity(trace.ops.len());
    for (i, &(op, a, b)) in trace.ops.iter().enumerate() {
        // Operands read before the result is written, so a dying operand's register
        // may take the result.
        for operand in [a, b] {
            if last_use[operand] == i && !free.contains(&register[operand]) {
                free.push(register[operand]);
            }
        }
        let dst = free.pop().unwrap_or_else(|| {
            registers += 1;
            registers - 1
        });
        let value = trace.inputs + i;
        register[value] = dst;
        if last_use[value] == 0 {
            // Never read (not an output either): its register is free again at once.
            free.push(dst);
        }
        code.push(
            ((op as u32) << 24)
                | ((dst as u32) << 16)
                | ((register[a] as u32) << 8)
                | register[b] as u32,
        );
    }
    assert!(registers < 256, "registers fit a byte");
    Program {
        code,
        outputs: outputs.iter().map(|&o| register[o]).collect(),
        registers,
    }
}

fn point<F: Field>(t: &mut Trace) -> [F; 3] {
    [F::input(t), F::input(t), F::input(t)]
}

fn flatten<F: Field>(p: [F; 3]) -> Vec<usize> {
    p.iter().flat_map(|c| c.values()).collect()
}

fn programs<F: Field>() -> (Program, Program) {
    let mut t = Trace::default();
    let p = point::<F>(&mut t);
    let q = point::<F>(&mut t);
    let sum = add(&mut t, p, q);
    let add_program = compile(&t, &flatten(sum));
    let mut t = Trace::default();
    let p = point::<F>(&mut t);
    let doubled = double(&mut t, p);
    (add_program, compile(&t, &flatten(doubled)))
}

/// The WGSL constants of a curve's programs: `POINT_FPS` (Fp components of a projective
/// point), `REGISTERS`, `PROGRAM` (addition then doubling), the bounds of each, and the
/// registers holding each result. Addition reads P from registers 0.. and Q right after
/// it; doubling reads P from registers 0..
fn wgsl<F: Field>(curve: &str) -> String {
    let (add, double) = programs::<F>();
    let fps = add.outputs.len();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by veribatch-kernels (src/formulas.rs) for {curve}: do not edit."
    );
    let _ = writeln!(s, "const POINT_FPS: u32 = {fps}u;");
    let _ = writeln!(
        s,
        "const REGISTERS: u32 = {}u;",
        add.registers.max(double.registers)
    );
    let code: Vec<String> = add
        .code
        .iter()
        .chain(&double.code)
        .map(|c| format!("0x{c:08x}u"))
        .collect();
    let _ = writeln!(s, "const PROGRAM = array<u32, {}>(", code.len());
    for line in code.chunks(8) {
        let _ = writeln!(s, "    {},", line.join(", "));
    }
    let _ = writeln!(s, ");");
    let _ = writeln!(s, "const ADD_START: u32 = 0u;");
    let _ = writeln!(s, "const ADD_END: u32 = {}u;", add.code.len());
    let _ = writeln!(s, "const DOUBLE_START: u32 = {}u;", add.code.len());
    let _ = writeln!(
        s,
        "const DOUBLE_END: u32 = {}u;",
        add.code.len() + double.code.len()
    );
    let list = |r: &[usize]| {
        r.iter()
            .map(|x| format!("{x}u"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        s,
        "const ADD_OUT = array<u32, {fps}>({});",
        list(&add.outputs)
    );
    let _ = writeln!(
        s,
        "const DOUBLE_OUT = array<u32, {fps}>({});",
        list(&double.outputs)
    );
    s
}

/// The programs of G1 (coordinates in Fp).
pub fn g1_programs() -> String {
    wgsl::<Fp>("G1")
}

/// The programs of G2 (coordinates in Fp2).
pub fn g2_programs() -> String {
    wgsl::<Fp2>("G2")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a program on integers modulo a small prime, as the interpreter would.
    fn run(program: &Program, inputs: &[u64], p: u64) -> Vec<u64> {
        let mut regs = vec![0u64; program.registers];
        regs[..inputs.len()].copy_from_slice(inputs);
        for &ins in &program.code {
            let (op, dst, a, b) = (
                ins >> 24,
                (ins >> 16 & 0xff) as usize,
                (ins >> 8 & 0xff) as usize,
                (ins & 0xff) as usize,
            );
            regs[dst] = match op {
                0 => regs[a] * regs[b] % p,
                1 => (regs[a] + regs[b]) % p,
                _ => (regs[a] + p - regs[b]) % p,
            };
        }
        program.outputs.iter().map(|&r| regs[r]).collect()
    }

    /// Evaluates the same formula directly, without register allocation.
    fn reference(trace: &Trace, outputs: &[usize], inputs: &[u64], p: u64) -> Vec<u64> {
        let mut values = inputs.to_vec();
        for &(op, a, b) in &trace.ops {
            let (a, b) = (values[a], values[b]);
            values.push(match op {
                Op::Mul => a * b % p,
                Op::Add => (a + b) % p,
                Op::Sub => (a + p - b) % p,
            });
        }
        outputs.iter().map(|&o| values[o]).collect()
    }

    #[test]
    fn register_allocation_preserves_every_value() {
        let p = 1_000_003;
        for fps in [1usize, 2] {
            let mut t = Trace::default();
            let outputs = if fps == 1 {
                let (a, b) = (point::<Fp>(&mut t), point::<Fp>(&mut t));
                flatten(add(&mut t, a, b))
            } else {
                let (a, b) = (point::<Fp2>(&mut t), point::<Fp2>(&mut t));
                flatten(add(&mut t, a, b))
            };
            let program = compile(&t, &outputs);
            let inputs: Vec<u64> = (0..t.inputs as u64).map(|i| (i * 7919 + 13) % p).collect();
            assert_eq!(
                run(&program, &inputs, p),
                reference(&t, &outputs, &inputs, p)
            );
            assert!(
                program.registers < t.inputs + t.ops.len() / 2,
                "registers are reused"
            );
        }
    }

    #[test]
    fn the_programs_are_sized_as_expected() {
        let (add1, dbl1) = programs::<Fp>();
        let muls = |p: &Program| p.code.iter().filter(|&&c| c >> 24 == 0).count();
        assert_eq!((muls(&add1), muls(&dbl1)), (12, 8));
        let (add2, dbl2) = programs::<Fp2>();
        assert_eq!((muls(&add2), muls(&dbl2)), (36, 22));
        assert!(g2_programs().contains("const POINT_FPS: u32 = 6u;"));
    }
}
